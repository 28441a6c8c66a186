//! A team's PostgreSQL over TLS, as libpq users write its URL: the default
//! and `require` encrypt without checking the certificate (Debian's own
//! server has a self-signed one), `verify-ca` checks the chain against
//! `sslrootcert`, `verify-full` the name too; a server that wants TLS gets it.

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sslmode_means_what_it_means_to_libpq() {
    let (middle, cert) = pg::tls_database().await;
    let cert = cert.display().to_string();
    let at = |host: &str, query: &str| {
        let middle = middle.replacen("127.0.0.1", host, 1);
        Store::parse(&format!("postgres://{middle}{query}"))
    };
    // The role is refused without TLS: every success below spoke TLS.
    let plain = query::list(&at("127.0.0.1", "?sslmode=disable"), None, None)
        .await
        .unwrap_err()
        .to_string();
    assert!(plain.contains("pg_hba.conf"), "{plain}");

    // The default (prefer), with a self-signed certificate: encrypted, recorded.
    let night = night("t1", 1, &[P("/a", "/a", &[])], &[("/a", FMT, "email")]);
    record(&at("127.0.0.1", ""), &night, &Baseline::Last)
        .await
        .unwrap();
    let reads =
        |store: Store| async move { query::list(&store, None, None).await.map(|r| r.len()) };
    for ok in [
        at("127.0.0.1", "?sslmode=require"),
        at(
            "127.0.0.1",
            &format!("?sslmode=verify-ca&sslrootcert={cert}"),
        ),
        at(
            "localhost",
            &format!("?sslmode=verify-full&sslrootcert={cert}"),
        ),
    ] {
        let shown = ok.shown();
        assert_eq!(
            reads(ok).await.unwrap_or_else(|e| panic!("{shown}: {e}")),
            1
        );
    }
    // Checks that fail: an unknown issuer, a name the certificate does not hold.
    let unknown = reads(at("localhost", "?sslmode=verify-full"))
        .await
        .unwrap_err()
        .to_string();
    assert!(unknown.contains("UnknownIssuer"), "{unknown}");
    let wrong_name = reads(at(
        "127.0.0.1",
        &format!("?sslmode=verify-full&sslrootcert={cert}"),
    ))
    .await
    .unwrap_err()
    .to_string();
    assert!(wrong_name.contains("not valid for name"), "{wrong_name}");
    let bogus = reads(at("127.0.0.1", "?sslmode=verify-everything"))
        .await
        .unwrap_err()
        .to_string();
    assert!(
        bogus.contains("sslmode=verify-everything is not one of"),
        "{bogus}"
    );
}
