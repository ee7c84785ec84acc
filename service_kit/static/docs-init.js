// Swagger UI for /docs; the settings come from the page (no inline script, so CSP holds).
"use strict";
(function () {
  var config = JSON.parse(document.getElementById("docs-config").textContent);
  window.ui = SwaggerUIBundle({
    url: config.spec_url,
    dom_id: "#swagger-ui",
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
    layout: "BaseLayout",
    oauth2RedirectUrl: config.oauth2_redirect_url,
  });
  if (config.oauth) {
    window.ui.initOAuth(config.oauth);
  }
})();
