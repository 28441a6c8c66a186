//! One connection to a history store, whichever engine holds it: SQL is written
//! once (PostgreSQL's `$1` placeholders, rewritten to `?1` for SQLite), values
//! travel as [`Value`], rows come back as `Vec<Value>`.

use super::HistoryError;
use std::fmt::Write;
use std::time::Duration;

/// How long a recording waits for another one's lock before it gives up.
pub const LOCK_WAIT: Duration = Duration::from_secs(30);

/// The PostgreSQL advisory lock every writer takes (any constant would do).
/// Another session holding it (`SELECT pg_advisory_lock(…)`, e.g. around a
/// backup) keeps recordings waiting, up to [`LOCK_WAIT`].
pub const PG_WRITER_LOCK: i64 = 0x1a5d_e2a0_d175_0001;

/// A value bound to, or read from, a statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Value {
    /// SQL NULL.
    Null,
    /// Any integer (BIGINT columns; booleans as 0/1).
    Int(i64),
    /// Text.
    Text(String),
}

impl Value {
    /// The integer, 0 for NULL or text.
    pub(crate) fn int(&self) -> i64 {
        match self {
            Value::Int(i) => *i,
            _ => 0,
        }
    }

    /// The integer, or `None` for NULL.
    pub(crate) fn opt_int(&self) -> Option<i64> {
        match self {
            Value::Int(i) => Some(*i),
            _ => None,
        }
    }

    /// The text, empty for NULL.
    pub(crate) fn text(&self) -> String {
        match self {
            Value::Text(s) => s.clone(),
            Value::Int(i) => i.to_string(),
            Value::Null => String::new(),
        }
    }

    /// The text, or `None` for NULL.
    pub(crate) fn opt_text(&self) -> Option<String> {
        match self {
            Value::Text(s) => Some(s.clone()),
            Value::Int(i) => Some(i.to_string()),
            Value::Null => None,
        }
    }
}

impl From<i64> for Value {
    fn from(v: i64) -> Self {
        Value::Int(v)
    }
}
impl From<bool> for Value {
    fn from(v: bool) -> Self {
        Value::Int(v as i64)
    }
}
impl From<&str> for Value {
    fn from(v: &str) -> Self {
        Value::Text(v.to_string())
    }
}
impl From<String> for Value {
    fn from(v: String) -> Self {
        Value::Text(v)
    }
}
impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Self {
        v.map_or(Value::Null, Into::into)
    }
}

/// One row of a result.
pub(crate) type Row = Vec<Value>;

/// Which engine a connection talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Engine {
    /// An embedded SQLite file.
    Sqlite,
    /// A PostgreSQL server.
    Postgres,
}

/// An open connection.
pub(crate) enum Conn {
    /// SQLite: synchronous calls, short enough to make from async code.
    Sqlite(rusqlite::Connection),
    /// PostgreSQL: the client; its connection task runs on the runtime.
    Postgres(tokio_postgres::Client),
}

/// `$N` placeholders as SQLite's `?N`.
fn sqlite_sql(sql: &str) -> String {
    sql.replace('$', "?")
}

impl rusqlite::ToSql for Value {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        use rusqlite::types::{ToSqlOutput, ValueRef};
        Ok(match self {
            Value::Null => ToSqlOutput::Borrowed(ValueRef::Null),
            Value::Int(i) => ToSqlOutput::Borrowed(ValueRef::Integer(*i)),
            Value::Text(s) => ToSqlOutput::Borrowed(ValueRef::Text(s.as_bytes())),
        })
    }
}

impl tokio_postgres::types::ToSql for Value {
    fn to_sql(
        &self,
        ty: &tokio_postgres::types::Type,
        out: &mut tokio_postgres::types::private::BytesMut,
    ) -> Result<tokio_postgres::types::IsNull, Box<dyn std::error::Error + Sync + Send>> {
        use tokio_postgres::types::{IsNull, Type};
        // The server infers each placeholder's type from its context; the
        // value is encoded as that type, so one SQL text serves both engines.
        match self {
            Value::Null => Ok(IsNull::Yes),
            Value::Int(i) => match *ty {
                Type::INT2 => i16::try_from(*i)?.to_sql(ty, out),
                Type::INT4 => i32::try_from(*i)?.to_sql(ty, out),
                Type::BOOL => (*i != 0).to_sql(ty, out),
                Type::TEXT | Type::VARCHAR => i.to_string().to_sql(ty, out),
                _ => i.to_sql(ty, out),
            },
            Value::Text(s) => s.to_sql(ty, out),
        }
    }

    fn accepts(_: &tokio_postgres::types::Type) -> bool {
        true
    }

    tokio_postgres::types::to_sql_checked!();
}

/// A cell read from PostgreSQL, whatever its type.
struct PgCell(Value);

impl<'a> tokio_postgres::types::FromSql<'a> for PgCell {
    fn from_sql(
        ty: &tokio_postgres::types::Type,
        raw: &'a [u8],
    ) -> Result<Self, Box<dyn std::error::Error + Sync + Send>> {
        use tokio_postgres::types::Type;
        Ok(PgCell(match *ty {
            Type::INT8 => Value::Int(i64::from_sql(ty, raw)?),
            Type::INT4 => Value::Int(i32::from_sql(ty, raw)?.into()),
            Type::INT2 => Value::Int(i16::from_sql(ty, raw)?.into()),
            Type::BOOL => Value::Int(bool::from_sql(ty, raw)?.into()),
            _ => Value::Text(String::from_sql(ty, raw)?),
        }))
    }

    fn from_sql_null(
        _: &tokio_postgres::types::Type,
    ) -> Result<Self, Box<dyn std::error::Error + Sync + Send>> {
        Ok(PgCell(Value::Null))
    }

    fn accepts(_: &tokio_postgres::types::Type) -> bool {
        true
    }
}

/// A database error in words: PostgreSQL's own message where it gave one.
pub(crate) fn pg_cause(e: &tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) if db.code() == &tokio_postgres::error::SqlState::LOCK_NOT_AVAILABLE => format!(
            "locked by another recording for more than {} s",
            LOCK_WAIT.as_secs()
        ),
        Some(db) => db.message().to_string(),
        None => {
            let mut text = e.to_string();
            let mut source = std::error::Error::source(e);
            while let Some(s) = source {
                let _ = write!(text, ": {s}");
                source = s.source();
            }
            text
        }
    }
}

/// A SQLite error in words, a busy store said as a lock held too long.
pub(crate) fn sqlite_cause(e: &rusqlite::Error) -> String {
    match e.sqlite_error_code() {
        Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked) => format!(
            "locked by another recording for more than {} s",
            LOCK_WAIT.as_secs()
        ),
        Some(rusqlite::ErrorCode::NotADatabase) => {
            "not an insider-audit history store (not a SQLite database)".to_string()
        }
        _ => e.to_string(),
    }
}

impl Conn {
    /// The engine behind the connection.
    pub(crate) fn engine(&self) -> Engine {
        match self {
            Conn::Sqlite(_) => Engine::Sqlite,
            Conn::Postgres(_) => Engine::Postgres,
        }
    }

    /// Runs one statement; the number of rows it changed.
    pub(crate) async fn exec(&mut self, sql: &str, params: &[Value]) -> Result<u64, String> {
        match self {
            Conn::Sqlite(c) => {
                let mut stmt = c.prepare(&sqlite_sql(sql)).map_err(|e| sqlite_cause(&e))?;
                stmt.execute(rusqlite::params_from_iter(params.iter()))
                    .map(|n| n as u64)
                    .map_err(|e| sqlite_cause(&e))
            }
            Conn::Postgres(c) => {
                let refs: Vec<&(dyn tokio_postgres::types::ToSql + Sync)> =
                    params.iter().map(|p| p as _).collect();
                c.execute(sql, &refs).await.map_err(|e| pg_cause(&e))
            }
        }
    }

    /// Runs a query; every row.
    pub(crate) async fn query(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Row>, String> {
        match self {
            Conn::Sqlite(c) => {
                let mut stmt = c.prepare(&sqlite_sql(sql)).map_err(|e| sqlite_cause(&e))?;
                let n = stmt.column_count();
                let rows = stmt
                    .query_map(rusqlite::params_from_iter(params.iter()), |row| {
                        (0..n)
                            .map(|i| {
                                Ok(match row.get_ref(i)? {
                                    rusqlite::types::ValueRef::Null => Value::Null,
                                    rusqlite::types::ValueRef::Integer(v) => Value::Int(v),
                                    rusqlite::types::ValueRef::Real(v) => Value::Int(v as i64),
                                    rusqlite::types::ValueRef::Text(t)
                                    | rusqlite::types::ValueRef::Blob(t) => {
                                        Value::Text(String::from_utf8_lossy(t).into_owned())
                                    }
                                })
                            })
                            .collect::<rusqlite::Result<Row>>()
                    })
                    .map_err(|e| sqlite_cause(&e))?;
                rows.collect::<rusqlite::Result<Vec<Row>>>()
                    .map_err(|e| sqlite_cause(&e))
            }
            Conn::Postgres(c) => {
                let refs: Vec<&(dyn tokio_postgres::types::ToSql + Sync)> =
                    params.iter().map(|p| p as _).collect();
                let rows = c.query(sql, &refs).await.map_err(|e| pg_cause(&e))?;
                rows.iter()
                    .map(|row| {
                        (0..row.len())
                            .map(|i| row.try_get::<_, PgCell>(i).map(|c| c.0))
                            .collect::<Result<Row, _>>()
                            .map_err(|e| pg_cause(&e))
                    })
                    .collect()
            }
        }
    }

    /// The first row of a query, if any.
    pub(crate) async fn one(&mut self, sql: &str, params: &[Value]) -> Result<Option<Row>, String> {
        Ok(self.query(sql, params).await?.into_iter().next())
    }

    /// Runs statements separated by `;`, without parameters (schema changes).
    pub(crate) async fn batch(&mut self, sql: &str) -> Result<(), String> {
        match self {
            Conn::Sqlite(c) => c.execute_batch(sql).map_err(|e| sqlite_cause(&e)),
            Conn::Postgres(c) => c.batch_execute(sql).await.map_err(|e| pg_cause(&e)),
        }
    }

    /// Starts the one write transaction at a time: SQLite's write lock
    /// (`BEGIN IMMEDIATE`, waiting up to 30 s), PostgreSQL's advisory lock
    /// (waiting up to 30 s), so two recordings never compute states from the
    /// same history at once and both land, one after the other.
    pub(crate) async fn begin_write(&mut self) -> Result<(), String> {
        match self {
            Conn::Sqlite(_) => self.batch("BEGIN IMMEDIATE").await,
            Conn::Postgres(_) => {
                self.batch(&format!(
                    "BEGIN; SET LOCAL lock_timeout = '{}s'",
                    LOCK_WAIT.as_secs()
                ))
                .await?;
                self.query(
                    "SELECT pg_advisory_xact_lock($1)",
                    &[Value::Int(PG_WRITER_LOCK)],
                )
                .await
                .map(drop)
            }
        }
    }

    /// Starts a read transaction: one consistent view of the store.
    pub(crate) async fn begin_read(&mut self) -> Result<(), String> {
        match self {
            Conn::Sqlite(_) => self.batch("BEGIN").await,
            Conn::Postgres(_) => {
                self.batch("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
                    .await
            }
        }
    }

    /// Commits the transaction.
    pub(crate) async fn commit(&mut self) -> Result<(), String> {
        self.batch("COMMIT").await
    }

    /// Commits a transaction that changed the store's data, counting the
    /// change in `history_meta`'s `generation`: a reader that keeps views
    /// (`history serve`) compares it to know they still hold.
    pub(crate) async fn commit_change(&mut self) -> Result<(), String> {
        self.batch(
            "INSERT INTO history_meta (key, value) SELECT 'generation', '0' \
             WHERE NOT EXISTS (SELECT 1 FROM history_meta WHERE key = 'generation'); \
             UPDATE history_meta SET value = CAST(CAST(value AS BIGINT) + 1 AS TEXT) \
             WHERE key = 'generation'; COMMIT",
        )
        .await
    }

    /// How many changes the store's data has had ([`Conn::commit_change`]).
    pub(crate) async fn generation(&mut self) -> Result<i64, String> {
        Ok(self
            .one(
                "SELECT value FROM history_meta WHERE key = 'generation'",
                &[],
            )
            .await?
            .and_then(|row| row[0].text().parse().ok())
            .unwrap_or(0))
    }

    /// Rolls the transaction back (after an error: the store stays as it was).
    pub(crate) async fn rollback(&mut self) {
        let _ = self.batch("ROLLBACK").await;
    }

    /// Inserts many rows of `columns` values with multi-row `VALUES` lists
    /// (a few statements instead of one per row; PostgreSQL pays a round trip
    /// per statement). `tail` follows each statement (e.g. `ON CONFLICT DO NOTHING`).
    pub(crate) async fn insert_many(
        &mut self,
        head: &str,
        columns: usize,
        values: Vec<Value>,
        tail: &str,
    ) -> Result<(), String> {
        const MAX_PARAMS: usize = 4000;
        let rows_per = (MAX_PARAMS / columns).max(1);
        for chunk in values.chunks(rows_per * columns) {
            let mut sql = String::with_capacity(head.len() + chunk.len() * 6);
            sql.push_str(head);
            sql.push_str(" VALUES ");
            for (r, _) in chunk.chunks(columns).enumerate() {
                if r > 0 {
                    sql.push(',');
                }
                sql.push('(');
                for c in 0..columns {
                    if c > 0 {
                        sql.push(',');
                    }
                    let _ = write!(sql, "${}", r * columns + c + 1);
                }
                sql.push(')');
            }
            sql.push(' ');
            sql.push_str(tail);
            self.exec(&sql, chunk).await?;
        }
        Ok(())
    }

    /// Runs `sql` once per chunk of `ids`, where `sql` holds `{ids}` for the
    /// list of placeholders after the `fixed` parameters; the rows of all runs.
    pub(crate) async fn query_in(
        &mut self,
        sql: &str,
        fixed: &[Value],
        ids: &[i64],
    ) -> Result<Vec<Row>, String> {
        let mut rows = Vec::new();
        for chunk in ids.chunks(900) {
            let (text, params) = in_list(sql, fixed, chunk);
            rows.extend(self.query(&text, &params).await?);
        }
        Ok(rows)
    }

    /// [`Conn::query_in`] for a statement that returns nothing.
    pub(crate) async fn exec_in(
        &mut self,
        sql: &str,
        fixed: &[Value],
        ids: &[i64],
    ) -> Result<(), String> {
        for chunk in ids.chunks(900) {
            let (text, params) = in_list(sql, fixed, chunk);
            self.exec(&text, &params).await?;
        }
        Ok(())
    }
}

fn in_list(sql: &str, fixed: &[Value], ids: &[i64]) -> (String, Vec<Value>) {
    let mut list = String::new();
    for i in 0..ids.len() {
        if i > 0 {
            list.push(',');
        }
        let _ = write!(list, "${}", fixed.len() + i + 1);
    }
    let mut params = fixed.to_vec();
    params.extend(ids.iter().map(|&i| Value::Int(i)));
    (sql.replace("{ids}", &list), params)
}

/// Opens a SQLite store. A recording opens it read-write (creating the file);
/// a reader opens an existing file read-only, so it cannot change it.
pub(crate) fn open_sqlite(
    path: &std::path::Path,
    write: bool,
    shown: &str,
) -> Result<Conn, HistoryError> {
    use rusqlite::OpenFlags;
    let store = |cause: String| HistoryError::Store {
        store: shown.to_string(),
        cause,
    };
    let flags = if write {
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE
    } else {
        if !path.exists() {
            return Err(store("no history store there (record a run first)".into()));
        }
        OpenFlags::SQLITE_OPEN_READ_ONLY
    };
    let conn = rusqlite::Connection::open_with_flags(path, flags | OpenFlags::SQLITE_OPEN_NO_MUTEX)
        .map_err(|e| store(sqlite_cause(&e)))?;
    conn.busy_timeout(LOCK_WAIT)
        .map_err(|e| store(sqlite_cause(&e)))?;
    Ok(Conn::Sqlite(conn))
}

/// Connects to a PostgreSQL store. `PGPASSWORD` fills a password the URL does
/// not give; `sslmode` and `sslrootcert` mean what they mean to libpq
/// ([`super::pg_tls`]). A reader's session is read-only.
pub(crate) async fn open_postgres(
    url: &str,
    write: bool,
    shown: &str,
) -> Result<Conn, HistoryError> {
    let store = |cause: String| HistoryError::Store {
        store: shown.to_string(),
        cause,
    };
    let prepared = super::pg_tls::prepare(url).map_err(|e| store(super::store::redact_url(&e)))?;
    let mut config: tokio_postgres::Config = prepared
        .url
        .parse()
        .map_err(|e: tokio_postgres::Error| store(super::store::redact_url(&pg_cause(&e))))?;
    if config.get_password().is_none() {
        if let Ok(password) = std::env::var("PGPASSWORD") {
            config.password(password);
        }
    }
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(LOCK_WAIT);
    }
    tracing::debug!(store = shown, sslmode = ?prepared.mode, "connecting");
    let (client, connection) = config
        .connect(prepared.tls)
        .await
        .map_err(|e| store(pg_cause(&e)))?;
    tokio::spawn(async move {
        // The connection ends with the client; an error here is seen by the
        // client's next call, which reports it.
        let _ = connection.await;
    });
    let mut conn = Conn::Postgres(client);
    let setup = if write {
        "SET client_min_messages = warning"
    } else {
        "SET client_min_messages = warning; SET default_transaction_read_only = on"
    };
    conn.batch(setup).await.map_err(store)?;
    Ok(conn)
}
