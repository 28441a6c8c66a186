//! The demo shop: pages compiled into the binary, served on 127.0.0.1, with
//! compliant pages and one page planting each defect.
//!
//! Page files hold a one-line header (`<!-- title: T | page: TYPE -->`), the
//! `<head>` scripts, a `<!-- body -->` marker and the body; [`layout`] wraps them
//! in the shop's common frame.

use crate::error::Fatal;
use crate::scenario::{self, Plan};
use crate::server::{Account, Resource, StaticServer};
use std::collections::HashMap;
use std::path::Path;
use url::Url;

macro_rules! site_files {
    ($($path:literal),* $(,)?) => {
        &[$(($path, include_str!(concat!("site/", $path)))),*]
    };
}

/// Every file of the demo shop.
const FILES: &[(&str, &str)] = site_files![
    "index.html",
    "product/espresso.html",
    "product/grinder.html",
    "guide/brewing.html",
    "cart.html",
    "account/profile.html",
    "account/no-user.html",
    "account/not-returned.html",
    "account/phone-format.html",
    "account/phone-invalid.html",
    "account/wrong-types.html",
    "account/gdpr-missing.html",
    "account/incomplete.html",
    "account/notifications.html",
    "account/orders.html",
    "login.html",
    "defects/no-queue.html",
    "defects/clobbered.html",
    "defects/push-before-init.html",
    "defects/malformed.html",
    "defects/sdk-missing.html",
    "defects/sdk-twice.html",
    "defects/empty-values.html",
    "defects/unknown-attribute.html",
    "defects/anonymous.html",
    "defects/user-after-init.html",
    "defects/init-missing.html",
    "defects/init-repeated.html",
    "defects/push-type.html",
    "defects/legacy-object.html",
    "defects/broken.html",
    "ins.js",
    "shop.js",
    "shop.css",
    "legacy-profile.js",
    "insider-user.js",
    "reviews-widget.js",
    "recommendations.js",
    "tag-manager.js",
    "telemetry.js",
    "guide.js",
];

/// Pages that answer with an error status.
const STATUS: &[(&str, u16)] = &[("/defects/broken.html", 500)];

/// The stand-in SDK, also served by the test fixtures.
pub const STAND_IN_SDK: &str = include_str!("site/ins.js");

/// Wraps a page file in the shop's frame.
pub fn layout(file: &str) -> String {
    let (header, rest) = file.split_once('\n').unwrap_or(("", file));
    let header = header
        .trim()
        .trim_start_matches("<!--")
        .trim_end_matches("-->");
    let field = |name: &str| {
        header
            .split('|')
            .find_map(|part| {
                part.trim()
                    .strip_prefix(name)?
                    .trim()
                    .strip_prefix(':')
                    .map(|v| v.trim().to_string())
            })
            .unwrap_or_default()
    };
    let (head, body) = rest.split_once("<!-- body -->").unwrap_or(("", rest));
    format!(
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>{title} | Demo Coffee Shop</title>\n<link rel=\"stylesheet\" href=\"/shop.css\">\n{head}\n</head>\n<body data-page=\"{page}\">\n<header><b>Demo Coffee Shop</b> <a href=\"/\">Home</a> <a href=\"/product/espresso.html\">Espresso</a> <a href=\"/cart.html\">Cart</a> <a href=\"/account/profile.html\">My account</a> <a href=\"/login.html\">Sign in</a></header>\n<main>\n{body}\n</main>\n</body>\n</html>\n",
        title = field("title"),
        page = field("page"),
        head = head.trim(),
        body = body.trim(),
    )
}

/// The demo's journeys (`scenarios/demo.json`), aimed at the embedded shop.
pub const DEMO_SCENARIOS: &str = include_str!("../../scenarios/demo.json");

/// The demo shop's one account.
pub fn demo_account() -> Account {
    Account {
        email: "ada@example.com".into(),
        password: "demo-password".into(),
        profile: serde_json::json!({
            "id": "DEMO-1001", "customer_number": "C-20931",
            "first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.com",
            "phone_e164": "+905321234567", "phone_typed": "0532 123 45 67", "phone_national": "05321234567",
            "locale": "en_US", "age": 36, "whatsapp": true, "sms": false, "cookie_consent": true
        }),
    }
}

/// The demo shop, running.
pub struct DemoSite {
    server: StaticServer,
}

/// Starts the demo shop on a free loopback port.
pub async fn serve() -> Result<DemoSite, Fatal> {
    let mut files = HashMap::new();
    for (path, text) in FILES {
        let url_path = format!("/{path}");
        let body = if path.ends_with(".html") {
            layout(text)
        } else {
            text.to_string()
        };
        let mut resource = Resource::file(path, body);
        if let Some((_, status)) = STATUS.iter().find(|(p, _)| *p == url_path) {
            resource = resource.with_status(*status);
        }
        files.insert(url_path, resource);
    }
    let server = StaticServer::start_shop(files, vec![demo_account()])
        .await
        .map_err(|e| Fatal::Internal(format!("cannot serve the demo shop on 127.0.0.1: {e}")))?;
    Ok(DemoSite { server })
}

impl DemoSite {
    /// The base URL, e.g. `http://127.0.0.1:41234`.
    pub fn base_url(&self) -> String {
        self.server.base_url()
    }

    /// The demo's journeys, aimed at this server.
    pub fn plan(&self) -> Result<Plan, Fatal> {
        let plan = scenario::parse(Path::new("scenarios/demo.json"), DEMO_SCENARIOS, &|_| None)
            .map_err(|e| Fatal::Internal(format!("the embedded demo scenario is broken: {e}")))?;
        let base = Url::parse(&format!("{}/", self.server.base_url())).expect("a loopback URL");
        Ok(plan.rebase(base))
    }

    /// The path of every page the demo shop serves (its `.html` files).
    pub fn pages(&self) -> Vec<String> {
        FILES
            .iter()
            .filter(|(path, _)| path.ends_with(".html"))
            .map(|(path, _)| format!("/{path}"))
            .collect()
    }

    /// Stops serving.
    pub fn stop(self) {
        drop(self.server);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_fills_the_frame() {
        let page = layout("<!-- title: Espresso | page: product -->\n<script>x</script>\n<!-- body -->\n<h1>E</h1>\n");
        assert!(page.contains("<title>Espresso | Demo Coffee Shop</title>"));
        assert!(page.contains("<body data-page=\"product\">"));
        assert!(page.contains("<script>x</script>\n</head>"));
        assert!(page.contains("<main>\n<h1>E</h1>\n</main>"));
    }
}
