//! Where reports go: the table to stdout, one other format to `--output` or
//! stdout, several to stable names under `--out-dir`; each written page by
//! page through a redacting writer.

use super::options::{Common, FormatKind};
use crate::error::Fatal;
use crate::report::{self, Head, Pages};
use std::io::Write;
use std::path::PathBuf;

/// Where each requested format goes.
pub(super) enum Destination {
    Stdout,
    File(PathBuf),
}

/// Table to stdout; a single other format to --output or, alone, to stdout;
/// several to stable file names under --out-dir.
pub(super) fn output_targets(common: &Common) -> Result<Vec<(FormatKind, Destination)>, Fatal> {
    let formats = if common.formats.is_empty() {
        vec![FormatKind::Table]
    } else {
        common.formats.clone()
    };
    let others: Vec<FormatKind> = formats
        .iter()
        .copied()
        .filter(|f| *f != FormatKind::Table)
        .collect();
    if common.output.is_some() && others.len() != 1 {
        return Err(Fatal::Usage(
            "--output takes exactly one non-table --format (e.g. --format json --output report.json); for several, use --out-dir".into(),
        ));
    }
    let alone = others.len() == 1 && !formats.contains(&FormatKind::Table);
    let mut seen = Vec::new();
    let mut targets = Vec::new();
    for format in &formats {
        if seen.contains(format) {
            continue;
        }
        seen.push(*format);
        let target = match (format, &common.output) {
            (FormatKind::Table, _) => Destination::Stdout,
            (_, Some(path)) => Destination::File(path.clone()),
            _ if alone => Destination::Stdout,
            _ => Destination::File(common.out_dir.join(format.file_name())),
        };
        targets.push((*format, target));
    }
    Ok(targets)
}

/// The renderer of a format.
fn renderer(format: FormatKind, common: &Common) -> Box<dyn report::Format> {
    match format {
        // The table goes to stdout: short marks when a terminal is too narrow.
        FormatKind::Table => Box::new(report::table::Table {
            width: console::Term::stdout()
                .size_checked()
                .map(|(_rows, columns)| columns as usize),
        }),
        FormatKind::Json => Box::new(report::json::Json),
        FormatKind::Junit => Box::new(report::junit::Junit),
        FormatKind::Markdown => Box::new(report::markdown::Markdown),
        FormatKind::Html => Box::new(report::html::Html {
            base_dir: common.out_dir.clone(),
        }),
    }
}

/// Writes every report of `head` and `pages`, each as a stream.
pub(super) fn write_reports(
    head: &Head,
    pages: &dyn Pages,
    targets: &[(FormatKind, Destination)],
    common: &Common,
    quiet: bool,
) -> Result<(), Fatal> {
    for (format, target) in targets {
        let renderer = renderer(*format, common);
        match target {
            Destination::Stdout => {
                let mut out = Redacting::new(std::io::stdout().lock());
                // A closed pipe (`| head`) is no error.
                let _ = renderer
                    .write(head, pages, &mut out)
                    .and_then(|_| out.finish());
            }
            Destination::File(path) => {
                create_parent(path)?;
                let file = std::fs::File::create(path).map_err(|source| Fatal::Write {
                    path: path.clone(),
                    source,
                })?;
                let mut out = Redacting::new(std::io::BufWriter::new(file));
                renderer
                    .write(head, pages, &mut out)
                    .and_then(|_| out.finish())
                    .map_err(|source| Fatal::Write {
                        path: path.clone(),
                        source,
                    })?;
                if !quiet {
                    eprintln!("wrote {}", path.display());
                }
            }
        }
    }
    Ok(())
}

/// A writer that redacts secrets from what passes through it, a chunk at a
/// time: it holds text back to the last line break (or, in a long line of
/// HTML, the last `>`, which an escaped secret never holds), so a secret is
/// never cut between two chunks.
struct Redacting<W: Write> {
    inner: W,
    held: Vec<u8>,
}

/// Text held back before a chunk is looked for a place to cut.
const HOLD: usize = 64 * 1024;

impl<W: Write> Redacting<W> {
    fn new(inner: W) -> Self {
        Redacting {
            inner,
            held: Vec::new(),
        }
    }

    /// Writes what is held and flushes.
    fn finish(&mut self) -> std::io::Result<()> {
        let held = std::mem::take(&mut self.held);
        self.inner.write_all(&crate::redact::redact_bytes(&held))?;
        self.inner.flush()
    }
}

impl<W: Write> Write for Redacting<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.held.extend_from_slice(buf);
        if self.held.len() >= HOLD {
            let cut = self
                .held
                .iter()
                .rposition(|&b| b == b'\n')
                .or_else(|| self.held.iter().rposition(|&b| b == b'>'));
            if let Some(cut) = cut {
                let rest = self.held.split_off(cut + 1);
                let chunk = std::mem::replace(&mut self.held, rest);
                self.inner.write_all(&crate::redact::redact_bytes(&chunk))?;
            }
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn create_parent(path: &std::path::Path) -> Result<(), Fatal> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|source| Fatal::Write {
            path: dir.to_path_buf(),
            source,
        })?;
    }
    Ok(())
}

/// Writes a file, creating its directory.
pub(crate) fn write_file(path: &std::path::Path, bytes: &[u8]) -> Result<(), Fatal> {
    create_parent(path)?;
    std::fs::write(path, crate::redact::redact_bytes(bytes)).map_err(|source| Fatal::Write {
        path: path.to_path_buf(),
        source,
    })
}

/// Writes to stdout; a closed pipe (`| head`) is no error.
pub(super) fn write_stdout(bytes: &[u8]) {
    let mut out = std::io::stdout().lock();
    let bytes = crate::redact::redact_bytes(bytes);
    let _ = out.write_all(&bytes).and_then(|_| out.flush());
}
