//! Where a history lives (a SQLite file or a PostgreSQL URL), how it is named
//! in messages (never with its password), and opening it for reading or for
//! recording, with the schema checked or migrated.

use super::db::{self, Conn, Value};
use super::schema;
use super::HistoryError;
use std::path::PathBuf;

/// A history store as given by `--history STORE` or `INSIDER_AUDIT_HISTORY`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Store {
    /// An embedded SQLite database file, created on first use.
    Sqlite(PathBuf),
    /// A PostgreSQL URL (`postgres://` or `postgresql://`).
    Postgres(String),
}

/// `text` with the password of every `postgres://` URL in it, any
/// `password=` parameter and the value of `PGPASSWORD` replaced by `***`.
pub(crate) fn redact_url(text: &str) -> String {
    let mut out = text.to_string();
    for scheme in ["postgres://", "postgresql://"] {
        let mut from = 0;
        while let Some(at) = out[from..].find(scheme).map(|i| i + from) {
            let rest_start = at + scheme.len();
            let end = out[rest_start..]
                .find(|c: char| c.is_whitespace() || c == '/' || c == '?')
                .map_or(out.len(), |i| i + rest_start);
            let authority = &out[rest_start..end];
            if let Some(userinfo_end) = authority.rfind('@') {
                if let Some(colon) = authority[..userinfo_end].find(':') {
                    let range = rest_start + colon + 1..rest_start + userinfo_end;
                    out.replace_range(range, "***");
                }
            }
            from = rest_start;
        }
    }
    let mut from = 0;
    while let Some(at) = out[from..].find("password=").map(|i| i + from) {
        let start = at + "password=".len();
        let end = out[start..]
            .find(|c: char| c == '&' || c.is_whitespace())
            .map_or(out.len(), |i| i + start);
        out.replace_range(start..end, "***");
        from = start;
    }
    if let Ok(password) = std::env::var("PGPASSWORD") {
        if password.len() >= 3 {
            out = out.replace(&password, "***");
        }
    }
    out
}

impl Store {
    /// The store named by `text`: a `postgres://`/`postgresql://` URL, else a
    /// file path. The password is registered for redaction in every log line.
    pub fn parse(text: &str) -> Store {
        if text.starts_with("postgres://") || text.starts_with("postgresql://") {
            if let Ok(url) = url::Url::parse(text) {
                if let Some(password) = url.password() {
                    crate::redact::register(password);
                    let decoded = url::form_urlencoded::parse(format!("p={password}").as_bytes())
                        .next()
                        .map(|(_, v)| v.into_owned());
                    if let Some(decoded) = decoded {
                        crate::redact::register(&decoded);
                    }
                }
            }
            if let Ok(password) = std::env::var("PGPASSWORD") {
                crate::redact::register(&password);
            }
            Store::Postgres(text.to_string())
        } else {
            Store::Sqlite(PathBuf::from(text))
        }
    }

    /// How the store is named in messages and reports: its password redacted.
    pub fn shown(&self) -> String {
        match self {
            Store::Sqlite(path) => path.display().to_string(),
            Store::Postgres(url) => redact_url(url),
        }
    }

    fn error(&self, cause: impl Into<String>) -> HistoryError {
        HistoryError::Store {
            store: self.shown(),
            cause: redact_url(&cause.into()),
        }
    }

    /// Opens the store to record into it: created when missing, migrated
    /// forward one migration at a time, each under the write lock.
    pub(crate) async fn open_write(&self) -> Result<Conn, HistoryError> {
        let mut conn = self.connect(true).await?;
        loop {
            conn.begin_write().await.map_err(|e| self.error(e))?;
            let step = self.migrate_one(&mut conn).await;
            match step {
                Ok(true) => conn.commit().await.map_err(|e| self.error(e))?,
                Ok(false) => {
                    conn.rollback().await;
                    return Ok(conn);
                }
                Err(e) => {
                    conn.rollback().await;
                    return Err(e);
                }
            }
        }
    }

    /// Applies the next migration, if one is due; whether it did.
    async fn migrate_one(&self, conn: &mut Conn) -> Result<bool, HistoryError> {
        let version = self.version(conn).await?;
        if version >= schema::VERSION {
            return Ok(false);
        }
        let next = version + 1;
        conn.batch(&schema::migration(next, conn.engine()))
            .await
            .map_err(|e| self.error(format!("migration {next}: {e}")))?;
        conn.exec(
            "UPDATE history_meta SET value = $1 WHERE key = 'schema_version'",
            &[Value::Text(next.to_string())],
        )
        .await
        .map_err(|e| self.error(e))?;
        Ok(true)
    }

    /// Opens the store to read it; it is never changed. A store that is
    /// missing, foreign, older or newer than this build is refused.
    pub(crate) async fn open_read(&self) -> Result<Conn, HistoryError> {
        let mut conn = self.connect(false).await?;
        let version = self.version(&mut conn).await?;
        if version == 0 {
            return Err(self.error("holds no history yet (record a run first)"));
        }
        if version < schema::VERSION {
            return Err(self.error(format!(
                "is at schema version {version}; this insider-audit reads version {}: \
                 record a run with it (history record, or --history on a run) to migrate the store",
                schema::VERSION
            )));
        }
        Ok(conn)
    }

    async fn connect(&self, write: bool) -> Result<Conn, HistoryError> {
        let shown = self.shown();
        match self {
            Store::Sqlite(path) => {
                if write {
                    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                        std::fs::create_dir_all(dir).map_err(|e| self.error(e.to_string()))?;
                    }
                }
                db::open_sqlite(path, write, &shown)
            }
            Store::Postgres(url) => db::open_postgres(url, write, &shown).await,
        }
    }

    /// The schema version (0: an empty store); a foreign database or one of a
    /// newer schema is refused.
    async fn version(&self, conn: &mut Conn) -> Result<i64, HistoryError> {
        let tables_sql = match conn.engine() {
            db::Engine::Sqlite => {
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            }
            db::Engine::Postgres => {
                "SELECT CAST(tablename AS TEXT) FROM pg_tables WHERE schemaname = current_schema()"
            }
        };
        let tables: Vec<String> = conn
            .query(tables_sql, &[])
            .await
            .map_err(|e| self.error(e))?
            .into_iter()
            .map(|r| r[0].text())
            .collect();
        if tables.is_empty() {
            return Ok(0);
        }
        if !tables.iter().any(|t| t == "history_meta") {
            let mut names = tables.clone();
            names.sort();
            names.truncate(5);
            return Err(self.error(format!(
                "not an insider-audit history store (it holds other tables: {}); give a new file or an empty database",
                names.join(", ")
            )));
        }
        let version = conn
            .one(
                "SELECT value FROM history_meta WHERE key = 'schema_version'",
                &[],
            )
            .await
            .map_err(|e| self.error(e))?
            .and_then(|r| r[0].text().parse::<i64>().ok())
            .ok_or_else(|| self.error("its schema version is unreadable"))?;
        if version > schema::VERSION {
            return Err(self.error(format!(
                "was written by a newer insider-audit (schema version {version}; this one knows up to {}): \
                 upgrade insider-audit to use it",
                schema::VERSION
            )));
        }
        Ok(version)
    }
}
