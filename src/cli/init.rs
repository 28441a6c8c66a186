//! `init`: a commented starter scenario file for a site.

use super::output::write_file;
use crate::error::{ExitCode, Fatal};
use crate::scenario;

/// Writes the starter scenario file.
pub(super) fn init(
    base_url: &str,
    output: &std::path::Path,
    force: bool,
) -> Result<ExitCode, Fatal> {
    let url = url::Url::parse(base_url)
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https"))
        .ok_or_else(|| Fatal::Usage(format!("{base_url:?} is not an http(s) URL: give the site's address, e.g. https://shop.example/")))?;
    if output.exists() && !force {
        return Err(Fatal::Usage(format!(
            "{} exists: pass --force to overwrite it, or --output another path",
            output.display()
        )));
    }
    write_file(output, scenario::starter(&url).as_bytes())?;
    eprintln!(
        "wrote {}: adjust the login selectors and paths, then `insider-audit validate {}` (with AUDIT_USER and AUDIT_PASSWORD set)",
        output.display(),
        output.display()
    );
    Ok(ExitCode::Clean)
}
