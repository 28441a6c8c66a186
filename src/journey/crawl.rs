//! The crawl of a journey: visits in flight on several tabs, judged as they
//! finish, handed to the session rules, the report and the frontier in
//! frontier order.

use super::*;

impl Journey<'_> {
    /// Crawls breadth first with up to the run's tab budget in flight. Each
    /// visit runs as a task of its own and is judged by the page rules as soon as
    /// it finishes, and its tab goes to the next URL at once; a small reorder
    /// buffer then hands the pages to the session rules, the report and the
    /// frontier in the order the URLs were taken, so the pages audited and their
    /// order are those of a crawl with one tab.
    pub(super) async fn crawl(
        &mut self,
        config: &crate::scenario::CrawlConfig,
    ) -> Result<(), Stop> {
        let base = &self.plan.base_url;
        // A sharded crawl audits its part of the page list known before the
        // run and follows no links: they are listed as discovered.
        let shard = self.options.shard.filter(|_| self.page_list.is_none());
        let mut known: HashSet<String> = HashSet::new();
        let mut frontier = match (self.page_list, shard) {
            (Some(list), _) => Frontier::with_scope(list.scope.clone(), base, config),
            (None, Some(shard)) => {
                let scope = Scope::new(base, config);
                let mut list: Vec<Url> = config
                    .start
                    .iter()
                    .filter_map(|s| base.join(s).ok())
                    .collect();
                if config.sitemap {
                    if let Some(tab) = self.tab.as_ref() {
                        list.extend(sitemap(tab, self.plan).await);
                    }
                }
                list.retain(|u| scope.allows(u));
                known.extend(
                    list.iter()
                        .filter_map(crate::crawl::normalize)
                        .map(String::from),
                );
                let mine: Vec<String> = list
                    .iter()
                    .filter(|u| shard.owns(u))
                    .map(Url::to_string)
                    .collect();
                let part = crate::scenario::CrawlConfig {
                    max_pages: mine.len(),
                    start: mine,
                    max_depth: 0,
                    sitemap: false,
                    ..config.clone()
                };
                Frontier::new(base, &part)
            }
            (None, None) => Frontier::new(base, config),
        };
        let mut discovered: BTreeSet<String> = BTreeSet::new();
        for seen in &self.audited {
            if let Ok(url) = Url::parse(seen) {
                frontier.mark_seen(&url);
            }
        }
        let scope = frontier.scope().clone();
        let mut sitemap_pending = config.sitemap && shard.is_none();
        let mut idle: Vec<Tab> = self.tab.take().into_iter().collect();
        let mut permits: Vec<OwnedSemaphorePermit> = Vec::new();
        let mut tabs_open = idle.len();
        let first_name = self.run.pages;
        let mut taken = 0usize;
        let mut next = 0usize;
        let mut finished: BTreeMap<usize, CrawlVisit> = BTreeMap::new();
        let mut in_flight: FuturesUnordered<
            std::pin::Pin<Box<dyn std::future::Future<Output = Finished> + Send>>,
        > = FuturesUnordered::new();
        let mut tasks: HashMap<usize, tokio::task::AbortHandle> = HashMap::new();
        // URLs being visited, by frontier index: retried after a browser restart.
        let mut flying: HashMap<usize, String> = HashMap::new();
        let result = loop {
            // Hand the finished pages on in frontier order.
            while let Some(mut page) = finished.remove(&next) {
                next += 1;
                if let Some(message) = page.internal_error.take() {
                    self.internal_error(page.url.as_str(), &message);
                    frontier.uncount();
                    continue;
                }
                // A redirect out of scope, or a response that is not a page: listed
                // under skipped, not audited, and not counted toward max_pages.
                let skip = match (&page.visit.out_of_scope, &page.visit.not_a_page) {
                    _ if self.page_list.is_some() => None,
                    (Some(to), _) => Some(("redirects out of scope".to_string(), Some(to.clone()))),
                    (None, Some(why)) => Some((why.clone(), None)),
                    (None, None) => None,
                };
                if let Some((reason, to)) = skip {
                    tracing::info!("{}: {} skipped: {reason}", self.scenario.name, page.url);
                    let skipped = Skipped {
                        url: page.url.to_string(),
                        scenario: self.scenario.name.clone(),
                        reason,
                        to,
                    };
                    if !page.replayed {
                        (self.on_event)(JourneyEvent::Skipped(&skipped));
                    }
                    frontier.uncount();
                    continue;
                }
                if !self.browser.is_alive() {
                    break;
                }
                if let Some(final_url) = page
                    .visit
                    .capture
                    .final_url
                    .as_deref()
                    .and_then(|u| Url::parse(u).ok())
                {
                    frontier.mark_seen(&final_url);
                }
                if sitemap_pending && page.visit.capture.unreachable.is_none() {
                    sitemap_pending = false;
                    if idle.is_empty() {
                        if let Some(done) = in_flight.next().await {
                            tasks.remove(&done.0);
                            let done = self.tab_back(done, &mut idle, &mut tabs_open).await;
                            flying.remove(&done.index);
                            finished.insert(done.index, done);
                        }
                    }
                    if let Some(tab) = idle.last() {
                        for loc in sitemap(tab, self.plan).await {
                            frontier.offer(&loc, 1);
                        }
                    }
                }
                let links = page.visit.capture.links.clone();
                self.judged(page.visit, page.findings, page.screenshot, page.replayed);
                for link in links {
                    let Ok(link) = Url::parse(&link) else {
                        continue;
                    };
                    if shard.is_none() {
                        frontier.offer(&link, page.depth + 1);
                    } else if let Some(link) = crate::crawl::normalize(&link) {
                        if scope.allows(&link) && !known.contains(link.as_str()) {
                            discovered.insert(link.to_string());
                        }
                    }
                }
            }
            if !self.browser.is_alive() {
                self.run.in_flight = flying.values().cloned().collect();
                break Err(Stop::Fatal(self.browser.died()));
            }
            // Start the next URLs on every free tab, opening tabs while the
            // budget allows, while fewer than --concurrency finished pages wait
            // behind a slow one (the reorder buffer is bounded).
            while finished.len() < self.options.concurrency.max(1) {
                let Some((url, depth)) = frontier.pop() else {
                    break;
                };
                if let Some(page) = self.replay_crawled(taken, &url, depth).await {
                    finished.insert(taken, page);
                    taken += 1;
                    continue;
                }
                let tab = match idle.pop() {
                    Some(tab) => tab,
                    None => match self.options.tabs.clone().try_acquire_owned() {
                        Ok(permit) => match self.open_tab().await {
                            Ok(tab) => {
                                permits.push(permit);
                                tabs_open += 1;
                                tab
                            }
                            Err(error) => {
                                frontier.push_front(url, depth);
                                if tabs_open == 0 {
                                    return Err(Stop::Fatal(error));
                                }
                                break;
                            }
                        },
                        Err(_) => {
                            frontier.push_front(url, depth);
                            break;
                        }
                    },
                };
                let job = CrawlJob {
                    index: taken,
                    url: url.clone(),
                    depth,
                    options: self.options.visit.clone(),
                    scope: scope.clone(),
                    context: self.context(),
                    road: self.road(),
                    name: self.shot_name(first_name + taken + 1),
                };
                flying.insert(taken, url.to_string());
                let task = tokio::spawn(job.run(tab));
                tasks.insert(taken, task.abort_handle());
                let index = taken;
                in_flight.push(Box::pin(async move { (index, url, depth, task.await) }));
                taken += 1;
            }
            match in_flight.next().await {
                Some(done) => {
                    tasks.remove(&done.0);
                    let done = self.tab_back(done, &mut idle, &mut tabs_open).await;
                    flying.remove(&done.index);
                    finished.insert(done.index, done);
                }
                None if finished.is_empty() => break Ok(()),
                None => {}
            }
        };
        // An early exit stops the visits still in flight (their tabs close
        // with the journey's browser context).
        for task in tasks.into_values() {
            task.abort();
        }
        self.run.discovered = discovered.into_iter().collect();
        // One tab stays for the journey's end; the others close with their permits.
        self.tab = idle.pop();
        for tab in idle {
            tab.close().await;
        }
        drop(permits);
        result
    }

    /// A crawl URL that needs no visit: judged or skipped by an earlier run
    /// (replayed), or being audited at two browser deaths already (it is not
    /// tried a third time: unreachable).
    async fn replay_crawled(
        &mut self,
        index: usize,
        url: &Url,
        depth: usize,
    ) -> Option<CrawlVisit> {
        let visit = |capture: PageCapture, skipped: Option<&Skipped>| Visit {
            capture,
            tab_usable: true,
            retire: false,
            held: false,
            out_of_scope: skipped.and_then(|s| s.to.clone()),
            not_a_page: skipped.filter(|s| s.to.is_none()).map(|s| s.reason.clone()),
            doc: None,
        };
        let crawl_visit = |visit: Visit, findings, screenshot, replayed| CrawlVisit {
            index,
            url: url.clone(),
            depth,
            visit,
            findings,
            screenshot,
            replayed,
            internal_error: None,
        };
        if let Some(page) = self.replay.take_page(url.as_str()) {
            let replayed = visit(page.capture, None);
            return Some(crawl_visit(replayed, page.findings, page.screenshot, true));
        }
        if let Some(skipped) = self.replay.skipped(url.as_str()) {
            let skipped = skipped.clone();
            let replayed = visit(PageCapture::unreachable(url.as_str(), ""), Some(&skipped));
            return Some(crawl_visit(replayed, Vec::new(), None, true));
        }
        if self.replay.died_on.get(url.as_str()).copied().unwrap_or(0) >= 2 {
            let capture = PageCapture::unreachable(
                url.as_str(),
                "the browser died twice while this page was being audited",
            );
            let visit = visit(capture, None);
            let inspected = self.road().inspect(None, &visit, &self.context(), "").await;
            let mut page = crawl_visit(visit, inspected.findings, None, false);
            page.internal_error = inspected.internal_error;
            return Some(page);
        }
        None
    }

    /// Takes a finished crawl visit back: its tab returns to the idle ones, or
    /// is replaced when it is stuck or retired (see [`Visit::retire`]), or
    /// lost with a visit task that panicked (the page is the tool's internal
    /// error).
    async fn tab_back(
        &mut self,
        done: Finished,
        idle: &mut Vec<Tab>,
        tabs_open: &mut usize,
    ) -> CrawlVisit {
        let (index, url, depth, result) = done;
        let (page, tab) = match result {
            Ok((page, tab)) => (page, Some(tab)),
            Err(failed) => {
                let message = match failed.try_into_panic() {
                    Ok(panic) => road::panic_message(panic.as_ref()),
                    Err(other) => other.to_string(),
                };
                let page = CrawlVisit {
                    index,
                    visit: Visit {
                        capture: PageCapture::unreachable(url.as_str(), ""),
                        tab_usable: false,
                        retire: true,
                        held: false,
                        out_of_scope: None,
                        not_a_page: None,
                        doc: None,
                    },
                    url,
                    depth,
                    findings: Vec::new(),
                    screenshot: None,
                    replayed: false,
                    internal_error: Some(message),
                };
                (page, None)
            }
        };
        match tab {
            Some(tab) if page.visit.tab_usable && !page.visit.retire => idle.push(tab),
            tab => {
                if let Some(tab) = tab {
                    tokio::spawn(tab.close());
                }
                match self.open_tab().await {
                    Ok(tab) => idle.push(tab),
                    Err(error) => {
                        *tabs_open -= 1;
                        tracing::warn!("cannot replace a stuck tab: {error}");
                    }
                }
            }
        }
        page
    }
}

/// A crawl visit's task as it ended: its frontier index, URL and depth, and
/// the visit with its tab (or the panic that lost both).
type Finished = (
    usize,
    Url,
    usize,
    Result<(CrawlVisit, Tab), tokio::task::JoinError>,
);

/// A crawl URL on its way through a tab.
struct CrawlJob {
    index: usize,
    url: Url,
    depth: usize,
    options: VisitOptions,
    scope: Scope,
    context: PageContext,
    road: Road,
    name: String,
}

/// A crawl URL visited and judged by the page rules, waiting for its turn.
struct CrawlVisit {
    index: usize,
    url: Url,
    depth: usize,
    visit: Visit,
    findings: Vec<Finding>,
    screenshot: Option<String>,
    /// Judged by an earlier run: not reported again.
    replayed: bool,
    /// The tool failed on it (a panic): listed under skipped.
    internal_error: Option<String>,
}

impl CrawlJob {
    /// Visits the URL and judges the page (page rules; the session rules come
    /// in frontier order), taking its screenshot while the tab is still on it.
    pub(super) async fn run(self, tab: Tab) -> (CrawlVisit, Tab) {
        crate::fault::panic_on_page(crate::fault::Place::Visit, self.url.as_str());
        let visit = tab
            .visit(self.url.as_str(), &self.options, Some(&self.scope))
            .await;
        let inspected = self
            .road
            .inspect(Some(&tab), &visit, &self.context, &self.name)
            .await;
        let page = CrawlVisit {
            index: self.index,
            url: self.url,
            depth: self.depth,
            visit,
            findings: inspected.findings,
            screenshot: inspected.screenshot,
            replayed: false,
            internal_error: inspected.internal_error,
        };
        (page, tab)
    }
}

async fn sitemap(tab: &Tab, plan: &Plan) -> Vec<Url> {
    let Some(sitemap) = plan.resolve("/sitemap.xml") else {
        return Vec::new();
    };
    let expr = format!(
            "fetch({}, {{ credentials: 'same-origin' }}).then(r => r.ok ? r.text() : '').catch(() => '')",
            serde_json::json!(sitemap.as_str())
        );
    let text = tab
        .evaluate_async(&expr)
        .await
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default();
    sitemap_urls(&text)
}

/// The `<url><loc>` URLs of a sitemap, read as XML (entities decoded: a
/// `&amp;` in a query string is `&`); an unreadable sitemap gives none.
fn sitemap_urls(text: &str) -> Vec<Url> {
    let Ok(doc) = roxmltree::Document::parse(text) else {
        tracing::info!("the sitemap is not well-formed XML: no URLs taken from it");
        return Vec::new();
    };
    doc.descendants()
        .filter(|n| n.tag_name().name() == "loc")
        .filter_map(|n| n.text())
        .filter_map(|t| Url::parse(t.trim()).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sitemap_entities_are_decoded() {
        let xml = r#"<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
  <url><loc>https://shop.test/search?q=espresso&amp;page=2</loc></url>
  <url><loc>
    https://shop.test/cart
  </loc></url>
</urlset>"#;
        let urls: Vec<String> = sitemap_urls(xml).iter().map(Url::to_string).collect();
        assert_eq!(
            urls,
            [
                "https://shop.test/search?q=espresso&page=2",
                "https://shop.test/cart"
            ]
        );
        assert!(sitemap_urls("<urlset><loc>unclosed").is_empty());
    }
}
