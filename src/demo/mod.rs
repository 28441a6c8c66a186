//! The demo shop: pages compiled into the binary, served on 127.0.0.1, with
//! compliant pages and one page planting each defect.
//!
//! Page files hold a one-line header (`<!-- title: T | page: TYPE -->`), the
//! `<head>` scripts, a `<!-- body -->` marker and the body; [`layout`] wraps them
//! in the shop's common frame.

use crate::audit::Target;
use crate::checks::{PageContext, Session};
use crate::error::Fatal;
use crate::server::{Resource, StaticServer};
use std::collections::HashMap;

macro_rules! site_files {
    ($($path:literal),* $(,)?) => {
        &[$(($path, include_str!(concat!("site/", $path)))),*]
    };
}

/// Every file of the demo shop.
const FILES: &[(&str, &str)] = site_files![
    "index.html",
    "product/espresso.html",
    "cart.html",
    "account/profile.html",
    "account/no-user.html",
    "account/not-returned.html",
    "account/phone-format.html",
    "account/phone-invalid.html",
    "account/wrong-types.html",
    "account/gdpr-missing.html",
    "account/incomplete.html",
    "account/whatsapp-off.html",
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
    "reviews-widget.js",
    "recommendations.js",
    "tag-manager.js",
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
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>{title} | Demo Coffee Shop</title>\n<link rel=\"stylesheet\" href=\"/shop.css\">\n{head}\n</head>\n<body data-page=\"{page}\">\n<header><b>Demo Coffee Shop</b> <a href=\"/\">Home</a> <a href=\"/product/espresso.html\">Espresso</a> <a href=\"/cart.html\">Cart</a> <a href=\"/account/profile.html\">My account</a></header>\n<main>\n{body}\n</main>\n</body>\n</html>\n",
        title = field("title"),
        page = field("page"),
        head = head.trim(),
        body = body.trim(),
    )
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
    let server = StaticServer::start(files)
        .await
        .map_err(|e| Fatal::Usage(format!("cannot serve the demo shop on 127.0.0.1: {e}")))?;
    Ok(DemoSite { server })
}

impl DemoSite {
    /// The base URL, e.g. `http://127.0.0.1:41234`.
    pub fn base_url(&self) -> String {
        self.server.base_url()
    }

    /// Every page of the shop, in menu order. Until sign-in journeys exist, the
    /// `/account/` pages are rendered for a signed-in demo user and audited as
    /// logged in.
    pub fn targets(&self) -> Vec<Target> {
        FILES
            .iter()
            .filter(|(path, _)| path.ends_with(".html"))
            .map(|(path, _)| {
                let logged_in = path.starts_with("account/");
                Target {
                    url: self.server.url(&format!("/{path}")),
                    scenario: if logged_in { "logged-in" } else { "logged-out" }.into(),
                    context: PageContext {
                        session: if logged_in {
                            Session::LoggedIn
                        } else {
                            Session::LoggedOut
                        },
                        ..PageContext::default()
                    },
                }
            })
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
