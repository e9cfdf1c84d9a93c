//! Paged reads (search, history): how many pages to follow, printing them as they arrive, and
//! the page cap that keeps a server whose `next` links never end from running a command forever.

use super::output::{self, Out, OutputArgs};
use fhirforge_runtime::{Bundle, SearchMode, SearchRequest};
use futures::StreamExt as _;
use serde_json::Value;
use std::num::NonZeroUsize;

/// The default `--max-pages`: far more than a real search needs at any sensible `_count`, yet
/// bounded, so a server whose `next` links never end (or loop) cannot keep `--all` running.
pub(crate) const DEFAULT_MAX_PAGES: NonZeroUsize = match NonZeroUsize::new(1000) {
    Some(n) => n,
    None => NonZeroUsize::MIN,
};

/// How many pages to read from a search or history.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Pages {
    /// Only the first page.
    First,
    /// Follow `next` links until `limit` matches were printed (`None`: all), reading at most
    /// `max_pages` pages.
    Follow {
        /// Stop after this many matches.
        limit: Option<usize>,
        /// Fail after this many pages when the server still offers a next one.
        max_pages: NonZeroUsize,
    },
}

/// The page cap was reached while the server still offered a `next` page (exit code 1: the
/// output is incomplete).
#[derive(Debug)]
pub(crate) struct PageCapReached {
    /// Pages read.
    pub(crate) pages: usize,
    /// Matching resources printed.
    pub(crate) resources: usize,
}

impl std::fmt::Display for PageCapReached {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "stopped after {} page{} (--max-pages) with {} matching resource{} printed, but the \
             server links to more: the output is incomplete (raise --max-pages to read further)",
            self.pages,
            plural(self.pages),
            self.resources,
            plural(self.resources)
        )
    }
}

impl std::error::Error for PageCapReached {}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// Sends a search or history and prints its pages as they arrive: resources (pretty array or
/// NDJSON), or with `bundle` the raw Bundles. Server warnings inside Bundles go to stderr, and a
/// progress bar shows pages, resources and rate when several pages are read. What arrived is
/// printed even when a later page fails or the page cap is reached.
pub(crate) async fn print_pages(
    request: SearchRequest,
    pages: Pages,
    bundle: bool,
    out: &mut Out,
) -> anyhow::Result<()> {
    let mut collected: Vec<Value> = Vec::new();
    let (limit, max_pages) = match pages {
        Pages::First => {
            let page = request.send().await?;
            emit(page, bundle, usize::MAX, &mut collected, out)?;
            return finish(bundle, &collected, out);
        }
        Pages::Follow { limit, max_pages } => (limit, max_pages.get()),
    };
    let request = match limit {
        Some(n) => request.max_resources(n),
        None => request,
    };
    let bar = output::progress(out.quiet());
    // Pages are fetched lazily: the next one is requested only when the loop asks for it, so
    // leaving the loop at the cap sends nothing more.
    let mut stream = std::pin::pin!(request.pages());
    let (mut page_count, mut matches) = (0usize, 0usize);
    while let Some(page) = stream.next().await {
        let page = match page {
            Ok(p) => p,
            Err(e) => {
                bar.finish_and_clear();
                finish(bundle, &collected, out)?;
                return Err(e.into());
            }
        };
        page_count += 1;
        let left = limit.map_or(usize::MAX, |n| n.saturating_sub(matches));
        let has_next = page.next_link().is_some();
        matches += emit(page, bundle, left, &mut collected, out)?;
        bar.set_message(format!("{page_count} page{}", plural(page_count)));
        bar.set_position(matches as u64);
        if limit.is_some_and(|n| matches >= n) {
            break;
        }
        if page_count >= max_pages && has_next {
            bar.finish_and_clear();
            finish(bundle, &collected, out)?;
            return Err(PageCapReached {
                pages: page_count,
                resources: matches,
            }
            .into());
        }
    }
    bar.finish_and_clear();
    finish(bundle, &collected, out)
}

/// Handles one page; returns how many matches it contributed (at most `left`). Matches up to
/// the limit and every included resource are written (NDJSON: straight from the page, flushed
/// once per page) or moved out of the page into `collected` (the pretty array); none is cloned.
fn emit(
    page: Bundle,
    bundle: bool,
    left: usize,
    collected: &mut Vec<Value>,
    out: &mut Out,
) -> anyhow::Result<usize> {
    output::warn_outcomes(&page);
    let matches = page.matches().count().min(left);
    if bundle {
        out.value(page.as_json())?;
        return Ok(matches);
    }
    let mut kept_matches = 0;
    let mut keep = |entry: &Value| match Bundle::search_mode(entry) {
        SearchMode::Match if kept_matches < left => {
            kept_matches += 1;
            true
        }
        SearchMode::Include => true,
        _ => false,
    };
    if out.ndjson() {
        for entry in page.entries() {
            if let Some(resource) = entry.get("resource").filter(|_| keep(entry)) {
                out.line(resource)?;
            }
        }
        out.flush()?;
    } else {
        let mut json = page.into_json();
        if let Some(entries) = json.get_mut("entry").and_then(Value::as_array_mut) {
            for entry in entries {
                if keep(entry) {
                    if let Some(resource) = entry.get_mut("resource") {
                        collected.push(resource.take());
                    }
                }
            }
        }
    }
    Ok(matches)
}

fn finish(bundle: bool, collected: &[Value], out: &mut Out) -> anyhow::Result<()> {
    if !bundle && !out.ndjson() {
        out.array(collected)?;
    }
    Ok(())
}

/// The common output options plus `--bundle`, `--all`, `--max` and `--max-pages` for paged
/// reads.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct PageArgs {
    /// Follow `next` links and print every page
    #[arg(long, conflicts_with = "max")]
    pub(crate) all: bool,

    /// Follow `next` links until N matching resources were printed
    #[arg(long, value_name = "N")]
    pub(crate) max: Option<usize>,

    /// With --all or --max: read at most N pages; when the server still links to more, what
    /// arrived is printed and the command fails (exit code 1), so a server whose pages never
    /// end or link in a cycle cannot run it forever
    #[arg(long, value_name = "N", default_value_t = DEFAULT_MAX_PAGES)]
    pub(crate) max_pages: NonZeroUsize,

    /// Print the raw Bundles (one per page) instead of the resources in them
    #[arg(long)]
    pub(crate) bundle: bool,

    #[command(flatten)]
    pub(crate) output: OutputArgs,
}

impl PageArgs {
    /// How many pages to read.
    pub(crate) fn pages(&self) -> Pages {
        let max_pages = self.max_pages;
        if self.all {
            Pages::Follow {
                limit: None,
                max_pages,
            }
        } else if let Some(n) = self.max {
            Pages::Follow {
                limit: Some(n),
                max_pages,
            }
        } else {
            Pages::First
        }
    }
}
