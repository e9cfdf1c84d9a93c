//! Searches and history as lazily fetched page streams.

use std::collections::HashSet;
use std::fmt;
use std::hash::{DefaultHasher, Hash as _, Hasher as _};

use futures::stream::{self, Stream, StreamExt, TryStreamExt};
use http::{header, HeaderValue, Method};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use url::Url;

use crate::bundle::Bundle;
use crate::client::{Client, Req};
use crate::error::Error;
use crate::search::SearchParams;

/// How a search is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Via {
    /// GET, or POST `_search` when the URL would be longer than the client's limit.
    Auto,
    Get,
    Post,
}

/// A search (or history) request; nothing is sent until [`send`](Self::send),
/// [`pages`](Self::pages) or [`resources`](Self::resources).
#[derive(Debug, Clone)]
#[must_use = "a search does nothing until `.send()`, `.pages()` or `.resources()`"]
pub struct SearchRequest {
    client: Client,
    /// `[base]/Patient`, `[base]/Patient/1/_history`, ...
    target: Url,
    params: SearchParams,
    via: Via,
    /// History cannot be searched by POST.
    post_allowed: bool,
    max_pages: Option<usize>,
    max_resources: Option<usize>,
    allow_cross_origin: bool,
    /// An error found while building (bad resource type, ...), reported by `send`.
    deferred: Option<String>,
}

impl SearchRequest {
    pub(crate) fn new(
        client: Client,
        target: Result<Url, Error>,
        params: SearchParams,
        post_allowed: bool,
    ) -> Self {
        let allow_cross_origin = client.inner.allow_cross_origin;
        let (target, deferred) = match target {
            Ok(url) => (url, None),
            Err(e) => (client.inner.base.clone(), Some(e.to_string())),
        };
        Self {
            client,
            target,
            params,
            via: Via::Auto,
            post_allowed,
            max_pages: None,
            max_resources: None,
            allow_cross_origin,
            deferred,
        }
    }

    /// `true`: send as `POST [type]/_search` with a form body; `false`: always GET. By default
    /// GET is used unless the URL would be longer than the client's
    /// [`max_get_url_len`](crate::ClientBuilder::max_get_url_len).
    pub fn post(mut self, post: bool) -> Self {
        self.via = if post { Via::Post } else { Via::Get };
        self
    }

    /// The parameters so far.
    pub fn params(&self) -> &SearchParams {
        &self.params
    }

    /// The parameters, to add more (what [`SearchBuilder`](crate::search::SearchBuilder)'s
    /// methods go through).
    pub fn params_mut(&mut self) -> &mut SearchParams {
        &mut self.params
    }

    /// Stop after this many pages.
    pub fn max_pages(mut self, pages: usize) -> Self {
        self.max_pages = Some(pages);
        self
    }

    /// Stop after this many matched resources ([`resources`](Self::resources) yields no more;
    /// [`pages`](Self::pages) fetches no further page once they were seen).
    pub fn max_resources(mut self, resources: usize) -> Self {
        self.max_resources = Some(resources);
        self
    }

    /// Follow `next` links to other origins for this request (default: the client's setting).
    pub fn allow_cross_origin(mut self, allow: bool) -> Self {
        self.allow_cross_origin = allow;
        self
    }

    /// Fetches the first page.
    ///
    /// # Errors
    /// [`Error::Search`] for an invalid search value (nothing is sent), [`Error::InvalidInput`]
    /// for a bad resource type, and any transport or server error.
    pub async fn send(&self) -> Result<Bundle, Error> {
        if let Some(reason) = &self.deferred {
            return Err(Error::invalid("search target", reason.clone()));
        }
        let pairs = self.params.pairs()?;
        let get_url = self.get_url()?;
        let post = self.post_allowed
            && match self.via {
                Via::Post => true,
                Via::Get => false,
                Via::Auto => get_url.as_str().len() > self.client.inner.max_get_url_len,
            };
        let req = if post {
            let mut url = self.target.clone();
            url.path_segments_mut()
                .map_err(|()| Error::invalid("search target", "cannot be a base"))?
                .pop_if_empty()
                .push("_search");
            let body = url::form_urlencoded::Serializer::new(String::new())
                .extend_pairs(pairs.iter())
                .finish();
            let mut req = Req::new(Method::POST, url);
            req.body = Some((body.into(), "application/x-www-form-urlencoded"));
            // A search changes nothing on the server, so repeating it is safe.
            req.idempotent = true;
            req
        } else {
            Req::new(Method::GET, get_url)
        };
        self.client.bundle(req).await
    }

    /// The search as a GET URL (`[base]/Patient?name=...`).
    fn get_url(&self) -> Result<Url, Error> {
        let mut url = self.target.clone();
        if !self.params.pairs()?.is_empty() {
            url.set_query(Some(&self.params.to_query_string()?));
        }
        Ok(url)
    }

    /// The result pages as a stream, fetched one at a time as the stream is polled.
    ///
    /// Relative `next` links are resolved against the base URL; a link to another origin ends
    /// the stream with [`Error::CrossOrigin`] unless allowed. A `next` link that leads back to
    /// a page already read (`A -> B -> A`, or back to the search itself) ends the stream with
    /// an error instead of paging forever. The stream ends after the first error.
    pub fn pages(self) -> impl Stream<Item = Result<Bundle, Error>> + Send + 'static {
        let mut visited = Visited::default();
        if let Ok(url) = self.get_url() {
            visited.insert(&url);
        }
        let state = PageState {
            client: self.client.clone(),
            next: Next::First(Box::new(self.clone())),
            pages_left: self.max_pages,
            resources_left: self.max_resources,
            allow_cross_origin: self.allow_cross_origin,
            visited,
        };
        page_stream(state)
    }

    /// The matched resources of every page, in order (`_include`d resources and outcomes are
    /// left out; use [`pages`](Self::pages) for those).
    pub fn resources(self) -> impl Stream<Item = Result<Value, Error>> + Send + 'static {
        let limit = self.max_resources.unwrap_or(usize::MAX);
        self.pages()
            .map_ok(|page| stream::iter(page.into_match_iter().map(Ok)))
            .try_flatten()
            .take(limit)
    }
}

/// Where to continue a paged read: the next page's URL. Serializable, so a long export can be
/// saved and resumed (with [`Client::resume`]) by another process.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PageCursor {
    next: String,
}

impl fmt::Debug for PageCursor {
    // The link's query holds search values (patient data): show the path only.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let path = self.next.split('?').next().unwrap_or_default();
        f.debug_struct("PageCursor")
            .field("next", &format_args!("{path}?…"))
            .finish()
    }
}

impl PageCursor {
    /// The cursor for the page after `page`; `None` on the last page.
    pub fn after(page: &Bundle) -> Option<Self> {
        page.next_link().map(|next| Self {
            next: next.to_owned(),
        })
    }

    /// The link, as the server sent it.
    ///
    /// # Security Warning
    /// The link's query holds search values, which are often patient data: do not log it.
    pub fn link(&self) -> &str {
        &self.next
    }
}

impl Client {
    /// Continues paging from a saved cursor. Limits apply from the cursor on.
    pub fn resume(
        &self,
        cursor: PageCursor,
    ) -> impl Stream<Item = Result<Bundle, Error>> + Send + 'static {
        page_stream(PageState {
            client: self.clone(),
            next: Next::Link(cursor.next),
            pages_left: None,
            resources_left: None,
            allow_cross_origin: self.inner.allow_cross_origin,
            visited: Visited::default(),
        })
    }

    /// Fetches one page by its link (relative to the base URL, or absolute).
    ///
    /// # Errors
    /// [`Error::CrossOrigin`] when the link leaves the base URL's origin and `allow_cross_origin`
    /// is false; any transport, server or decode error.
    pub async fn fetch_page(&self, link: &str, allow_cross_origin: bool) -> Result<Bundle, Error> {
        let url = self.resolve_link(link, allow_cross_origin)?;
        self.bundle(Req::new(Method::GET, url)).await
    }

    fn resolve_link(&self, link: &str, allow_cross_origin: bool) -> Result<Url, Error> {
        let base = &self.inner.base;
        let url = base
            .join(link)
            .map_err(|e| Error::invalid("paging link", e.to_string()))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(Error::invalid("paging link", "not an http or https URL"));
        }
        if url.origin() != base.origin() && !allow_cross_origin {
            return Err(Error::CrossOrigin {
                origin: url.origin().ascii_serialization(),
            });
        }
        Ok(url)
    }

    /// Sends `req` and decodes the response as a Bundle.
    pub(crate) async fn bundle(&self, mut req: Req) -> Result<Bundle, Error> {
        req.headers
            .entry(header::ACCEPT)
            .or_insert(HeaderValue::from_static(crate::client::FHIR_JSON));
        let resp = self.execute(req).await?;
        Bundle::from_json(resp.json_required("Bundle")?)
    }
}

enum Next {
    First(Box<SearchRequest>),
    Link(String),
    /// An error to report after the page that revealed it.
    Fail(Error),
    Done,
}

struct PageState {
    client: Client,
    next: Next,
    pages_left: Option<usize>,
    resources_left: Option<usize>,
    allow_cross_origin: bool,
    visited: Visited,
}

/// The pages read so far, by resolved URL (fragment dropped), so that a server whose links form
/// a cycle cannot page forever. Hashes, not URLs, are kept: 8 bytes a page, however long the
/// links or the export (a collision would end a read early with the cycle error, never loop).
#[derive(Default)]
struct Visited(HashSet<u64>);

impl Visited {
    fn key(url: &Url) -> u64 {
        let mut url = url.clone();
        url.set_fragment(None);
        let mut hasher = DefaultHasher::new();
        url.as_str().hash(&mut hasher);
        hasher.finish()
    }

    /// Records `url`; `false` when it was read before.
    fn insert(&mut self, url: &Url) -> bool {
        self.0.insert(Self::key(url))
    }

    fn contains(&self, url: &Url) -> bool {
        self.0.contains(&Self::key(url))
    }
}

fn page_stream(state: PageState) -> impl Stream<Item = Result<Bundle, Error>> + Send + 'static {
    stream::try_unfold(state, |mut st| async move {
        if st.pages_left == Some(0) || st.resources_left == Some(0) {
            return Ok(None);
        }
        let page = match std::mem::replace(&mut st.next, Next::Done) {
            Next::Done => return Ok(None),
            Next::Fail(error) => return Err(error),
            Next::First(req) => req.send().await?,
            Next::Link(link) => {
                if let Ok(url) = st.client.resolve_link(&link, st.allow_cross_origin) {
                    st.visited.insert(&url);
                }
                st.client.fetch_page(&link, st.allow_cross_origin).await?
            }
        };
        if let Some(left) = &mut st.pages_left {
            *left -= 1;
        }
        if let Some(left) = &mut st.resources_left {
            *left = left.saturating_sub(page.matches().count());
        }
        if let Some(link) = page.next_link() {
            // A server whose links lead back to a page already read would be paged forever.
            let seen = st
                .client
                .resolve_link(link, st.allow_cross_origin)
                .is_ok_and(|url| st.visited.contains(&url));
            st.next = if seen {
                Next::Fail(Error::decode(
                    "Bundle",
                    "link",
                    "the next link leads back to a page already read: the server's paging links form a cycle",
                ))
            } else {
                Next::Link(link.to_owned())
            };
        }
        Ok(Some((page, st)))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use fhirforge_testkit::stub::{Reply, Stub};
    use serde_json::json;

    fn page(next: Option<&str>) -> Value {
        let link: Vec<Value> = next
            .map(|n| json!({"relation": "next", "url": n}))
            .into_iter()
            .collect();
        json!({"resourceType": "Bundle", "type": "searchset", "link": link,
               "entry": [{"resource": {"resourceType": "Patient", "id": "1"}, "search": {"mode": "match"}}]})
    }

    /// Pages until the stream ends (or 50 pages: the old code never ended).
    async fn read_all(client: &Client) -> Vec<Result<Bundle, Error>> {
        client
            .search("Patient", SearchParams::new())
            .pages()
            .take(50)
            .collect()
            .await
    }

    fn cycle_error(result: &Result<Bundle, Error>) -> bool {
        matches!(result, Err(e) if e.to_string().contains("form a cycle"))
    }

    #[tokio::test]
    async fn stub_paging_links_that_cycle_end_with_an_error() {
        // A -> B -> A (relative and absolute spellings of the same page, fragments ignored).
        let stub = Stub::start(|r| match r.target.as_str() {
            "/Patient" => Reply::json(200, &page(Some("page?p=a"))),
            "/page?p=a" => Reply::json(200, &page(Some(&format!("{}/page?p=b", r.base)))),
            "/page?p=b" => Reply::json(200, &page(Some("page?p=a#again"))),
            _ => Reply::status(404),
        })
        .await;
        let client = Client::builder(stub.base_url()).build().unwrap();
        let results = read_all(&client).await;
        assert_eq!(results.len(), 4, "search, A, B, then the error");
        assert!(results[..3].iter().all(Result::is_ok));
        assert!(cycle_error(&results[3]), "{:?}", results[3]);
        assert_eq!(stub.requests().len(), 3);

        // B links back to the search itself.
        let stub = Stub::start(|r| match r.target.as_str() {
            "/Patient?name=x" => Reply::json(200, &page(Some("page?p=b"))),
            "/page?p=b" => Reply::json(200, &page(Some("Patient?name=x"))),
            _ => Reply::status(404),
        })
        .await;
        let client = Client::builder(stub.base_url()).build().unwrap();
        let mut params = SearchParams::new();
        params.raw("name", "x");
        let results: Vec<_> = client
            .search("Patient", params)
            .pages()
            .take(50)
            .collect()
            .await;
        assert_eq!(results.len(), 3, "{results:?}");
        assert!(cycle_error(&results[2]), "{:?}", results[2]);

        // A page linking to itself.
        let stub = Stub::start(|r| match r.target.as_str() {
            "/Patient" => Reply::json(200, &page(Some("page?p=a"))),
            _ => Reply::json(200, &page(Some("page?p=a"))),
        })
        .await;
        let client = Client::builder(stub.base_url()).build().unwrap();
        let results = read_all(&client).await;
        assert_eq!(results.len(), 3);
        assert!(cycle_error(&results[2]));
    }

    #[tokio::test]
    async fn stub_a_long_chain_without_cycles_is_read_to_the_end() {
        let stub = Stub::start(|r| {
            let n: u32 = r
                .target
                .split("p=")
                .nth(1)
                .and_then(|n| n.parse().ok())
                .unwrap_or(0);
            let next = (n < 30).then(|| format!("page?p={}", n + 1));
            Reply::json(200, &page(next.as_deref()))
        })
        .await;
        let client = Client::builder(stub.base_url()).build().unwrap();
        let results = read_all(&client).await;
        assert_eq!(results.len(), 31);
        assert!(results.iter().all(Result::is_ok));
    }
}
