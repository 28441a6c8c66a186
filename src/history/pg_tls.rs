//! How a PostgreSQL store is spoken to, as libpq users expect from the URL's
//! `sslmode` (or `PGSSLMODE`) and `sslrootcert` (or `PGSSLROOTCERT`):
//!
//! | sslmode | TLS | the server's certificate |
//! |---|---|---|
//! | `disable` | no | – |
//! | `prefer` (the default) | when the server offers it | not checked |
//! | `require` | yes | not checked (a root given: chain checked) |
//! | `verify-ca` | yes | chain checked against `sslrootcert` (`system` or none: the Mozilla roots) |
//! | `verify-full` | yes | chain and host name checked |
//!
//! tokio-postgres knows only the first three words and no `sslrootcert`, so
//! the URL handed to it says `require` for the last two and drops the root;
//! what is checked lives in the rustls verifier built here. A server with
//! Debian's default self-signed ("snakeoil") certificate is thus reachable
//! with the default `prefer`, as with `psql`.

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, SignatureScheme};
use std::sync::Arc;

/// What the URL asks of TLS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SslMode {
    Disable,
    Prefer,
    Require,
    VerifyCa,
    VerifyFull,
}

impl SslMode {
    fn parse(word: &str) -> Result<SslMode, String> {
        Ok(match word {
            "disable" => SslMode::Disable,
            // libpq's "allow" tries without TLS first; TLS when offered is no worse.
            "allow" | "prefer" => SslMode::Prefer,
            "require" => SslMode::Require,
            "verify-ca" => SslMode::VerifyCa,
            "verify-full" => SslMode::VerifyFull,
            other => {
                return Err(format!(
                    "sslmode={other} is not one of disable, allow, prefer, require, verify-ca, verify-full"
                ))
            }
        })
    }

    /// The word tokio-postgres is given.
    fn for_driver(self) -> &'static str {
        match self {
            SslMode::Disable => "disable",
            SslMode::Prefer => "prefer",
            SslMode::Require | SslMode::VerifyCa | SslMode::VerifyFull => "require",
        }
    }
}

/// A store's URL made ready for tokio-postgres, and the TLS to speak.
pub(crate) struct Prepared {
    /// The URL with `sslmode` in tokio-postgres's words and no `sslrootcert`.
    pub(crate) url: String,
    /// What the URL asked.
    pub(crate) mode: SslMode,
    /// The TLS connector checking what `mode` says.
    pub(crate) tls: tokio_postgres_rustls::MakeRustlsConnect,
}

/// Reads `sslmode` and `sslrootcert` from `url` (else `PGSSLMODE` and
/// `PGSSLROOTCERT`) and builds the connector. The URL handed on differs only
/// in those two parameters: every other byte (a percent-encoded password,
/// `options`, several `host:port`s) is kept as written. Errors are said
/// without the URL.
pub(crate) fn prepare(url: &str) -> Result<Prepared, String> {
    let (base, query) = url.split_once('?').unwrap_or((url, ""));
    let mut mode = None;
    let mut root = None;
    let mut kept: Vec<&str> = Vec::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        let value = || {
            percent_encoding::percent_decode_str(value)
                .decode_utf8()
                .map(|v| v.into_owned())
                .map_err(|_| format!("{key}= is not UTF-8"))
        };
        match key {
            "sslmode" => mode = Some(SslMode::parse(&value()?)?),
            "sslrootcert" => root = Some(value()?),
            _ => kept.push(pair),
        }
    }
    let env = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    let mode = match mode {
        Some(m) => m,
        None => env("PGSSLMODE").map_or(Ok(SslMode::Prefer), |v| SslMode::parse(&v))?,
    };
    let root = root.or_else(|| env("PGSSLROOTCERT"));
    let sslmode = format!("sslmode={}", mode.for_driver());
    kept.push(&sslmode);
    let tls = connector(mode, root.as_deref())?;
    Ok(Prepared {
        url: format!("{base}?{}", kept.join("&")),
        mode,
        tls,
    })
}

fn connector(
    mode: SslMode,
    root: Option<&str>,
) -> Result<tokio_postgres_rustls::MakeRustlsConnect, String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    // `sslrootcert=system` (libpq 16): the trusted roots this build carries.
    let roots = match root {
        Some("system") | None => None,
        Some(path) => Some(Arc::new(read_roots(path)?)),
    };
    let verifier: Arc<dyn ServerCertVerifier> = match (mode, roots) {
        // libpq checks nothing for prefer, and for require only with a root.
        (SslMode::Disable | SslMode::Prefer, _) | (SslMode::Require, None) => {
            Arc::new(Unchecked(provider.clone()))
        }
        (SslMode::VerifyFull, roots) => webpki(roots, &provider)?,
        (SslMode::Require | SslMode::VerifyCa, roots) => {
            Arc::new(ChainOnly(webpki(roots, &provider)?))
        }
    };
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS: {e}"))?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth();
    Ok(tokio_postgres_rustls::MakeRustlsConnect::new(config))
}

/// The certificates of the PEM file at `path` (`sslrootcert`).
fn read_roots(path: &str) -> Result<rustls::RootCertStore, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("sslrootcert {path}: {e}"))?;
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(&bytes) {
        let cert = cert.map_err(|e| format!("sslrootcert {path}: {e}"))?;
        roots
            .add(cert)
            .map_err(|e| format!("sslrootcert {path}: {e}"))?;
    }
    if roots.is_empty() {
        return Err(format!("sslrootcert {path}: no PEM certificate in it"));
    }
    Ok(roots)
}

/// The chain-and-name verifier over `roots`, or over the Mozilla roots.
fn webpki(
    roots: Option<Arc<rustls::RootCertStore>>,
    provider: &Arc<CryptoProvider>,
) -> Result<Arc<WebPkiServerVerifier>, String> {
    let roots = roots.unwrap_or_else(|| {
        Arc::new(rustls::RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
        })
    });
    WebPkiServerVerifier::builder_with_provider(roots, provider.clone())
        .build()
        .map_err(|e| format!("TLS roots: {e}"))
}

/// `prefer` and `require` without a root: the connection is encrypted, the
/// certificate not checked (libpq's meaning); the handshake's signatures are.
#[derive(Debug)]
struct Unchecked(Arc<CryptoProvider>);

impl ServerCertVerifier for Unchecked {
    fn verify_server_cert(
        &self,
        _: &CertificateDer<'_>,
        _: &[CertificateDer<'_>],
        _: &ServerName<'_>,
        _: &[u8],
        _: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// `verify-ca` (and `require` with a root): the chain is checked, the name not.
#[derive(Debug)]
struct ChainOnly(Arc<WebPkiServerVerifier>);

impl ServerCertVerifier for ChainOnly {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        match self
            .0
            .verify_server_cert(end_entity, intermediates, name, ocsp, now)
        {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_verify_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn libpq_words_become_tokio_postgres_words() {
        for (url, mode, driver) in [
            ("postgres://u@h/db", SslMode::Prefer, "sslmode=prefer"),
            (
                "postgres://u@h/db?sslmode=disable",
                SslMode::Disable,
                "sslmode=disable",
            ),
            (
                "postgres://u@h/db?sslmode=require&application_name=x",
                SslMode::Require,
                "sslmode=require",
            ),
            (
                "postgres://u@h/db?sslmode=verify-full",
                SslMode::VerifyFull,
                "sslmode=require",
            ),
            (
                "postgres://u@h/db?sslmode=verify-ca",
                SslMode::VerifyCa,
                "sslmode=require",
            ),
        ] {
            let p = prepare(url).unwrap();
            assert_eq!(p.mode, mode, "{url}");
            assert!(p.url.contains(driver), "{url} -> {}", p.url);
            assert!(!p.url.contains("verify"), "{}", p.url);
        }
        let p = prepare("postgres://u@h/db?sslmode=require&application_name=x").unwrap();
        assert!(p.url.contains("application_name=x"), "{}", p.url);
        // Every other byte as written: encoded passwords and options, several hosts.
        let p = prepare(
            "postgres://u:two%20words@h1:5432,h2:5433/db?password=a%2Bb&options=-c%20search_path%3Dx&sslmode=require",
        )
        .unwrap();
        assert_eq!(
            p.url,
            "postgres://u:two%20words@h1:5432,h2:5433/db?password=a%2Bb&options=-c%20search_path%3Dx&sslmode=require"
        );
        assert!(p.url.parse::<tokio_postgres::Config>().is_ok(), "{}", p.url);
        let e = prepare("postgres://u@h/db?sslmode=bogus").err().unwrap();
        assert!(e.contains("sslmode=bogus is not one of"), "{e}");
        let e =
            prepare("postgres://u:secret@h/db?sslmode=verify-ca&sslrootcert=/nonexistent/root.crt")
                .err()
                .unwrap();
        assert!(e.contains("sslrootcert /nonexistent/root.crt"), "{e}");
        assert!(!e.contains("secret"), "{e}");
    }
}
