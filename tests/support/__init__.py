"""Real parts the tests share: one loopback HTTP stub, one live server, one token factory."""
