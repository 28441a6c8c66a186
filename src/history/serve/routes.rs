//! The paths `history serve` answers, each a view of the store in HTML and
//! JSON (README, "history serve"). A handler parses its path and parameters,
//! waits for a store permit, reads its view within [`VIEW_TIMEOUT`] and
//! answers in the form asked for; anything else is 404.

use super::answer::{respond, Answer, Failure, Params, Wants, MAX_LIMIT};
use super::{App, VIEW_TIMEOUT};
use crate::history::query;
use crate::history::Store;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use maud::{html, Markup, DOCTYPE};
use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;

/// The router of every view.
pub(crate) fn router(app: Arc<App>) -> Router {
    Router::new()
        .route("/", get(home))
        .route("/runs/{id}", get(run))
        .fallback(not_found)
        .with_state(app)
}

/// Answers one view: `read` gets the store and the parameters.
async fn view<F, Fut>(app: &App, headers: &HeaderMap, params: Params, read: F) -> Response
where
    F: FnOnce(Store, Params) -> Fut,
    Fut: Future<Output = Result<Answer, Failure>>,
{
    let wants = Wants::of(headers, &params);
    let outcome = match app.permits.acquire().await {
        Ok(_permit) => tokio::time::timeout(VIEW_TIMEOUT, read(app.store.clone(), params))
            .await
            .unwrap_or_else(|_| {
                Err(Failure::Store(format!(
                    "the store did not answer within {} s",
                    VIEW_TIMEOUT.as_secs()
                )))
            }),
        Err(_) => Err(Failure::Store("the server is stopping".into())),
    };
    respond(wants, outcome, document)
}

/// The whole page around a view's body.
fn document(title: &str, body: Markup) -> String {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · insider-audit history" }
            }
            body {
                nav { a href="/" { "insider-audit history" } }
                main { (body) }
            }
        }
    }
    .into_string()
}

async fn home(
    State(app): State<Arc<App>>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    view(&app, &headers, Params(q), |store, params| async move {
        let limit = params.count("limit", 50, MAX_LIMIT)?;
        let runs = query::list(&store, None, Some(limit.into())).await?;
        Ok(Answer {
            title: "Runs".into(),
            json: serde_json::json!({ "limit": limit, "runs": runs }),
            html: html! {
                h1 { "Runs" }
                table {
                    thead { tr { th { "run" } th { "suite" } th { "time" } th { "pages" } th { "errors" } } }
                    tbody {
                        @for r in &runs {
                            tr {
                                td { a href=(format!("/runs/{}", encode(&r.id))) { (r.id) } }
                                td { (r.suite) }
                                td { (r.started_at.format("%Y-%m-%d %H:%M")) }
                                td { (r.pages) }
                                td { (r.errors) }
                            }
                        }
                    }
                }
            },
        })
    })
    .await
}

async fn run(
    State(app): State<Arc<App>>,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    view(&app, &headers, Params(q), |store, _| async move {
        let detail = query::show(&store, &id).await?;
        Ok(Answer {
            title: format!("Run {id}"),
            json: serde_json::to_value(&detail).unwrap_or_default(),
            html: html! {
                h1 { "Run " (id) }
                p { (detail.findings.len()) " findings, " (detail.fixed.len()) " fixed" }
            },
        })
    })
    .await
}

async fn not_found(headers: HeaderMap, Query(q): Query<HashMap<String, String>>) -> Response {
    let params = Params(q);
    respond(
        Wants::of(&headers, &params),
        Err(Failure::NotFound("no such page".into())),
        document,
    )
}

/// A path segment, percent-encoded (ids and names may hold anything).
pub(crate) fn encode(segment: &str) -> String {
    url::form_urlencoded::byte_serialize(segment.as_bytes()).collect()
}
