//! The paths `history serve` answers (README, "history serve"), each a view
//! of the store as HTML and, at the same path, JSON:
//!
//! | path | view | parameters |
//! |---|---|---|
//! | `/` | the suites | |
//! | `/suites/{suite}` | a suite's trend | `branch`, `runs`, `strip_runs`, `offset`, `limit`, `open` |
//! | `/suites/{suite}/pages/{page}` | a page over time | `runs` |
//! | `/runs/{run}` | a run: its findings, what it fixed, its pages | `offset`, `limit` (200) |
//! | `/findings/{finding}` | a finding over time | |
//!
//! A handler parses its path and parameters, waits for a store permit, reads
//! its view within [`VIEW_TIMEOUT`] and answers in the form asked for; a
//! missing suite, run, page or finding is 404, anything else too.

use super::answer::{render, Answer, Failure, Params, Wants, MAX_LIMIT};
use super::{App, VIEW_TIMEOUT};
use crate::history::render::{self, ServeLinks};
use crate::history::views::{self, Window};
use crate::history::Store;
use axum::extract::rejection::PathRejection;
use axum::extract::{FromRequestParts, Path, Query};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use maud::Markup;
use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;

/// The most runs a series or a strip covers.
const MAX_RUNS: u32 = 366;

/// The router of every view.
pub(crate) fn router(app: Arc<App>) -> Router {
    Router::new()
        .route("/", get(home))
        .route("/suites/{suite}", get(suite))
        .route("/suites/{suite}/pages/{page}", get(page))
        .route("/runs/{run}", get(run))
        .route("/findings/{finding}", get(finding))
        .fallback(not_found)
        .with_state(app)
}

/// What every view is asked with: the server, the request's URI (the key of
/// a kept view), its headers (the form wanted) and its query parameters.
struct Asked {
    app: Arc<App>,
    uri: Uri,
    headers: HeaderMap,
    params: Params,
}

impl FromRequestParts<Arc<App>> for Asked {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, app: &Arc<App>) -> Result<Self, Response> {
        let Query(query) = Query::<HashMap<String, String>>::from_request_parts(parts, app)
            .await
            .map_err(IntoResponse::into_response)?;
        Ok(Asked {
            app: app.clone(),
            uri: parts.uri.clone(),
            headers: parts.headers.clone(),
            params: Params(query),
        })
    }
}

impl Asked {
    /// Answers the view `read` gives (from the store and the parameters). A
    /// view the store's generation has already rendered is sent as it was; a
    /// store that fails is 503 and nothing is kept.
    async fn view<F, Fut>(self, read: F) -> Response
    where
        F: FnOnce(Store, Params) -> Fut,
        Fut: Future<Output = Result<Answer, Failure>>,
    {
        let Asked {
            app,
            uri,
            headers,
            params,
        } = self;
        let wants = Wants::of(&headers, &params);
        view(&app, &uri, wants, params, read).await
    }

    /// 404, in the form asked for: an unknown path, or one whose segments
    /// are not text (they can name nothing).
    fn not_found(&self) -> Response {
        let wants = Wants::of(&self.headers, &self.params);
        render(
            wants,
            Err(Failure::NotFound("no such page".into())),
            document,
        )
        .response()
    }
}

/// [`Asked::view`]'s work, once the form wanted is known.
async fn view<F, Fut>(app: &App, uri: &Uri, wants: Wants, params: Params, read: F) -> Response
where
    F: FnOnce(Store, Params) -> Fut,
    Fut: Future<Output = Result<Answer, Failure>>,
{
    let answered = tokio::time::timeout(VIEW_TIMEOUT, async {
        let Ok(_permit) = app.permits.acquire().await else {
            return render(
                wants,
                Err(Failure::Store("the server is stopping".into())),
                document,
            );
        };
        let generation = match generation(&app.store).await {
            Ok(g) => g,
            Err(failure) => return render(wants, Err(failure), document),
        };
        let key = format!("{wants:?} {uri}");
        let slot = app.views.slot(generation, key.clone());
        let rendered = slot
            .get_or_try_init(|| async {
                match read(app.store.clone(), params).await {
                    // Not kept: the next request tries the store again.
                    Err(failure @ Failure::Store(_)) => Err(render(wants, Err(failure), document)),
                    outcome => Ok(render(wants, outcome, document)),
                }
            })
            .await;
        match rendered {
            Ok(kept) => {
                app.views.weigh(generation, &key, kept.body.len());
                kept.clone()
            }
            Err(failed) => failed,
        }
    })
    .await;
    answered
        .unwrap_or_else(|_| {
            let message = format!("no answer within {} s", VIEW_TIMEOUT.as_secs());
            render(wants, Err(Failure::Store(message)), document)
        })
        .response()
}

/// The store's generation: how many changes its data has had.
async fn generation(store: &Store) -> Result<i64, Failure> {
    let mut conn = store.open_read().await?;
    conn.generation()
        .await
        .map_err(|e| Failure::Store(format!("history store {}: {e}", store.shown())))
}

/// The whole page around a view's body, in the trend page's style.
fn document(title: &str, body: Markup) -> String {
    render::document(&format!("{title} · insider-audit history"), body).into_string()
}

/// A view's answer: its data as JSON, its page through `html`.
fn answer<T: serde::Serialize>(title: String, data: &T, html: impl Fn(&T) -> Markup) -> Answer {
    Answer {
        title,
        json: serde_json::to_value(data).unwrap_or_default(),
        html: html(data),
    }
}

fn missing(what: &str) -> Failure {
    Failure::NotFound(format!("no {what} in this store"))
}

async fn home(asked: Asked) -> Response {
    asked
        .view(|store, _| async move {
            let suites = views::suites(&store).await?;
            Ok(answer("Suites".into(), &suites, |s| {
                render::suites_page(s, &ServeLinks)
            }))
        })
        .await
}

async fn suite(asked: Asked, name: Result<Path<String>, PathRejection>) -> Response {
    let Ok(Path(name)) = name else {
        return asked.not_found();
    };
    asked
        .view(|store, params| async move {
            let base = Window::SERVE;
            let window = Window {
                runs: params.count("runs", base.runs as u32, MAX_RUNS)? as usize,
                strip_runs: params.count("strip_runs", base.strip_runs as u32, MAX_RUNS)? as usize,
                strip_offset: params.position("offset")?,
                strip_pages: params.count("limit", base.strip_pages as u32, MAX_LIMIT)? as usize,
                open_findings: params.count("open", base.open_findings as u32, MAX_LIMIT)? as usize,
                ..base
            };
            let trend = views::suite_trend(&store, &name, params.get("branch"), window)
                .await?
                .ok_or_else(|| missing(&format!("suite {name:?} (or no such branch)")))?;
            Ok(answer(trend.suite.clone(), &trend, |t| {
                render::suite_page(t, &ServeLinks)
            }))
        })
        .await
}

async fn page(asked: Asked, path: Result<Path<(String, String)>, PathRejection>) -> Response {
    let Ok(Path((suite, id))) = path else {
        return asked.not_found();
    };
    asked
        .view(|store, params| async move {
            let window = Window {
                runs: params.count("runs", Window::SERVE.runs as u32, MAX_RUNS)? as usize,
                ..Window::SERVE
            };
            let page = views::page_view(&store, &suite, &id, window)
                .await?
                .ok_or_else(|| missing("such page"))?;
            Ok(answer(format!("Page {id}"), &page, |p| {
                render::page_page(p, &ServeLinks)
            }))
        })
        .await
}

async fn run(asked: Asked, id: Result<Path<String>, PathRejection>) -> Response {
    let Ok(Path(id)) = id else {
        return asked.not_found();
    };
    asked
        .view(|store, params| async move {
            let (offset, limit) = (
                params.position("offset")?,
                params.count("limit", 200, MAX_LIMIT)? as usize,
            );
            let run = views::run_view(&store, &id)
                .await?
                .ok_or_else(|| missing(&format!("run {id:?}")))?
                .cut(offset, limit);
            Ok(answer(format!("Run {id}"), &run, |r| {
                render::run_page(r, &ServeLinks)
            }))
        })
        .await
}

async fn finding(asked: Asked, id: Result<Path<String>, PathRejection>) -> Response {
    let Ok(Path(id)) = id else {
        return asked.not_found();
    };
    asked
        .view(|store, _| async move {
            let finding = views::finding_view(&store, &id)
                .await?
                .ok_or_else(|| missing("such finding"))?;
            Ok(answer(format!("Finding {id}"), &finding, |f| {
                render::finding_page(f, &ServeLinks)
            }))
        })
        .await
}

async fn not_found(asked: Asked) -> Response {
    asked.not_found()
}
