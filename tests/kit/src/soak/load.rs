//! The soak test's clients: each one issues range requests against random streams until
//! the deadline or the request budget, and checks every answer against the source.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use reqwest::header::{ACCEPT_RANGES, CONTENT_LENGTH, CONTENT_RANGE, RANGE};
use reqwest::{Method, StatusCode};

use super::pattern::Pattern;

/// Failures kept word for word in the report; beyond this only counts grow.
const KEPT_FAILURES: usize = 20;

/// One stream under load: where it is served and what it must hold.
#[derive(Debug, Clone)]
pub struct Target {
    pub url: String,
    pub size: u64,
    pub pattern: Pattern,
}

/// The kinds of request a client sends, with how often (out of 100).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    /// `bytes=a-b`, a length from 1 byte to 8 MiB (the end may pass the file's end).
    Bounded,
    /// `bytes=a-`, read to the end.
    OpenEnded,
    /// `bytes=-n`, the last n bytes (n may exceed the file).
    Suffix,
    /// `HEAD`, with or without a range.
    Head,
    /// A GET (ranged or whole) dropped after part of its body.
    Aborted,
    /// `bytes=a-` with `a` past the end: 416.
    PastEnd,
}

impl Kind {
    const WEIGHTS: [(Kind, u32); 6] = [
        (Kind::Bounded, 48),
        (Kind::OpenEnded, 10),
        (Kind::Suffix, 12),
        (Kind::Head, 10),
        (Kind::Aborted, 12),
        (Kind::PastEnd, 8),
    ];

    pub fn name(self) -> &'static str {
        match self {
            Kind::Bounded => "bounded",
            Kind::OpenEnded => "openEnded",
            Kind::Suffix => "suffix",
            Kind::Head => "head",
            Kind::Aborted => "aborted",
            Kind::PastEnd => "pastEnd",
        }
    }

    fn pick(rng: &mut impl Rng) -> Kind {
        let total: u32 = Kind::WEIGHTS.iter().map(|(_, w)| w).sum();
        let mut n = rng.random_range(0..total);
        for (kind, weight) in Kind::WEIGHTS {
            if n < weight {
                return kind;
            }
            n -= weight;
        }
        unreachable!("the weights add up to {total}")
    }
}

/// One request and the answer it must get.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub kind: Kind,
    pub method: Method,
    pub range: Option<String>,
    pub status: StatusCode,
    /// The `Content-Range` the answer must carry, if any.
    pub content_range: Option<String>,
    /// The bytes of the file the body holds: `start..start + len`.
    pub start: u64,
    pub len: u64,
    /// Read this many body bytes, then hang up.
    pub hang_up_after: Option<u64>,
}

/// A length from 1 to `max`, log-uniform, so short and long ones are both common.
fn log_uniform(rng: &mut impl Rng, max: u64) -> u64 {
    if max <= 1 {
        return 1;
    }
    let e = rng.random_range(0.0..(max as f64).ln());
    (e.exp() as u64).clamp(1, max)
}

impl Plan {
    /// A random request of `kind` against a file of `size` bytes (at least 1).
    pub fn random(kind: Kind, size: u64, rng: &mut impl Rng) -> Plan {
        let partial = |start: u64, end: u64| Plan {
            kind,
            method: Method::GET,
            range: None,
            status: StatusCode::PARTIAL_CONTENT,
            content_range: Some(format!("bytes {start}-{end}/{size}")),
            start,
            len: end - start + 1,
            hang_up_after: None,
        };
        match kind {
            Kind::Bounded => {
                let start = rng.random_range(0..size);
                let last = start + log_uniform(rng, 8 << 20) - 1;
                Plan {
                    range: Some(format!("bytes={start}-{last}")),
                    ..partial(start, last.min(size - 1))
                }
            }
            Kind::OpenEnded => {
                let start = rng.random_range(0..size);
                Plan {
                    range: Some(format!("bytes={start}-")),
                    ..partial(start, size - 1)
                }
            }
            Kind::Suffix => {
                // One in ten asks for more than the file holds: the whole file.
                let n = if rng.random_bool(0.1) {
                    size + rng.random_range(1..=1 << 20)
                } else {
                    log_uniform(rng, size)
                };
                Plan {
                    range: Some(format!("bytes=-{n}")),
                    ..partial(size - n.min(size), size - 1)
                }
            }
            Kind::Head => {
                let get = if rng.random_bool(0.5) {
                    Plan::random(Kind::Bounded, size, rng)
                } else {
                    Plan::whole(kind, size)
                };
                Plan {
                    kind,
                    method: Method::HEAD,
                    ..get
                }
            }
            Kind::Aborted => {
                let get = if rng.random_bool(0.5) {
                    Plan::random(Kind::OpenEnded, size, rng)
                } else {
                    Plan::whole(kind, size)
                };
                Plan {
                    kind,
                    hang_up_after: Some(log_uniform(rng, get.len.min(4 << 20))),
                    ..get
                }
            }
            Kind::PastEnd => {
                let start = size + rng.random_range(0..1 << 20);
                Plan {
                    kind,
                    method: Method::GET,
                    range: Some(format!("bytes={start}-")),
                    status: StatusCode::RANGE_NOT_SATISFIABLE,
                    content_range: Some(format!("bytes */{size}")),
                    start: 0,
                    len: 0,
                    hang_up_after: None,
                }
            }
        }
    }

    fn whole(kind: Kind, size: u64) -> Plan {
        Plan {
            kind,
            method: Method::GET,
            range: None,
            status: StatusCode::OK,
            content_range: None,
            start: 0,
            len: size,
            hang_up_after: None,
        }
    }

    /// What `Content-Length` must say. A 416's body is the JSON error, not file bytes.
    fn content_length(&self) -> Option<u64> {
        (self.status != StatusCode::RANGE_NOT_SATISFIABLE).then_some(self.len)
    }

    /// Whether the body is the file's bytes, to be read (and checked).
    fn has_file_body(&self) -> bool {
        self.method == Method::GET && self.status != StatusCode::RANGE_NOT_SATISFIABLE
    }
}

/// What a set of requests got, added up.
#[derive(Debug, Default, Clone)]
pub struct Tally {
    pub requests: u64,
    pub kinds: BTreeMap<&'static str, u64>,
    pub statuses: BTreeMap<u16, u64>,
    /// Body bytes compared with the source.
    pub bytes_checked: u64,
    pub wrong_bytes: u64,
    /// Answers whose status or headers were not the ones the request must get.
    pub wrong_answers: u64,
    /// Bodies that ended before (or ran past) the length they announced.
    pub wrong_lengths: u64,
    /// Requests that failed below HTTP (refused, reset).
    pub transport_errors: u64,
    /// Requests that made no progress for the stall limit.
    pub hung: u64,
    /// Requests hung up on purpose, mid-body.
    pub hung_up: u64,
    /// Time from sending a GET to its first body byte, in microseconds.
    pub first_byte_us: Vec<u64>,
    /// The first failures, word for word.
    pub failures: Vec<String>,
}

impl Tally {
    fn fail(&mut self, message: String) {
        if self.failures.len() < KEPT_FAILURES {
            self.failures.push(message);
        }
    }

    pub fn merge(&mut self, other: Tally) {
        self.requests += other.requests;
        for (k, n) in other.kinds {
            *self.kinds.entry(k).or_default() += n;
        }
        for (s, n) in other.statuses {
            *self.statuses.entry(s).or_default() += n;
        }
        self.bytes_checked += other.bytes_checked;
        self.wrong_bytes += other.wrong_bytes;
        self.wrong_answers += other.wrong_answers;
        self.wrong_lengths += other.wrong_lengths;
        self.transport_errors += other.transport_errors;
        self.hung += other.hung;
        self.hung_up += other.hung_up;
        self.first_byte_us.extend(other.first_byte_us);
        for f in other.failures {
            self.fail(f);
        }
    }

    pub fn server_errors(&self) -> u64 {
        self.statuses
            .iter()
            .filter(|(s, _)| (500..600).contains(*s))
            .map(|(_, n)| n)
            .sum()
    }
}

/// Shared by every client: when to stop.
pub struct Budget {
    pub until: Instant,
    /// Requests left to start, if capped.
    pub requests: Option<AtomicU64>,
}

impl Budget {
    fn take(&self) -> bool {
        if Instant::now() >= self.until {
            return false;
        }
        match &self.requests {
            None => true,
            Some(left) => left
                .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1))
                .is_ok(),
        }
    }
}

/// One client (one connection pool, like one player): requests until the budget is spent.
pub async fn client(
    seed: u64,
    targets: Arc<Vec<Target>>,
    budget: Arc<Budget>,
    stall: Duration,
) -> Tally {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut tally = Tally::default();
    let http = match reqwest::Client::builder().no_proxy().build() {
        Ok(http) => http,
        Err(e) => {
            tally.transport_errors += 1;
            tally.fail(format!("building an HTTP client: {e}"));
            return tally;
        }
    };
    let mut scratch = Vec::new();
    while budget.take() {
        let target = &targets[rng.random_range(0..targets.len())];
        let plan = Plan::random(Kind::pick(&mut rng), target.size, &mut rng);
        run(&http, target, &plan, stall, &mut scratch, &mut tally).await;
    }
    tally
}

/// Sends one request and checks its answer, adding what happened to `tally`.
pub async fn run(
    http: &reqwest::Client,
    target: &Target,
    plan: &Plan,
    stall: Duration,
    scratch: &mut Vec<u8>,
    tally: &mut Tally,
) {
    tally.requests += 1;
    *tally.kinds.entry(plan.kind.name()).or_default() += 1;
    let what = format!(
        "{} {} {}",
        plan.method,
        target.url,
        plan.range.as_deref().unwrap_or("(no Range)")
    );
    let mut request = http.request(plan.method.clone(), &target.url);
    if let Some(range) = &plan.range {
        request = request.header(RANGE, range);
    }
    let sent = Instant::now();
    let mut response = match tokio::time::timeout(stall, request.send()).await {
        Err(_) => {
            tally.hung += 1;
            tally.fail(format!("{what}: no answer within {stall:?}"));
            return;
        }
        Ok(Err(e)) => {
            tally.transport_errors += 1;
            tally.fail(format!("{what}: {e}"));
            return;
        }
        Ok(Ok(response)) => response,
    };
    let status = response.status();
    *tally.statuses.entry(status.as_u16()).or_default() += 1;
    if let Some(wrong) = wrong_headers(plan, &response) {
        tally.wrong_answers += 1;
        tally.fail(format!("{what}: {wrong}"));
        return;
    }
    if !plan.has_file_body() {
        return;
    }

    let mut at = plan.start;
    let end = plan.start + plan.len;
    let stop_at = plan.hang_up_after.map_or(end, |n| plan.start + n);
    let mut first = true;
    while at < stop_at {
        let chunk = match tokio::time::timeout(stall, response.chunk()).await {
            Err(_) => {
                tally.hung += 1;
                tally.fail(format!(
                    "{what}: no byte for {stall:?} at offset {at} (of {})",
                    target.size
                ));
                return;
            }
            Ok(Err(e)) => {
                tally.transport_errors += 1;
                tally.fail(format!("{what}: body broke at offset {at}: {e}"));
                return;
            }
            Ok(Ok(None)) => break,
            Ok(Ok(Some(chunk))) => chunk,
        };
        if first {
            tally.first_byte_us.push(sent.elapsed().as_micros() as u64);
            first = false;
        }
        let len = chunk.len() as u64;
        if at + len > end {
            tally.wrong_lengths += 1;
            tally.fail(format!(
                "{what}: the body runs past its length {}",
                plan.len
            ));
            return;
        }
        let found = target.pattern.check(at, &chunk, scratch);
        tally.bytes_checked += len;
        if found.count > 0 {
            tally.wrong_bytes += found.count;
            tally.fail(format!(
                "{what}: {} wrong bytes, the first at offset {}",
                found.count,
                found.first.unwrap_or(at)
            ));
        }
        at += len;
    }
    if plan.hang_up_after.is_some() && at < end {
        // Dropping the response mid-body closes the connection: the server must let go.
        tally.hung_up += 1;
        return;
    }
    if at != end {
        tally.wrong_lengths += 1;
        tally.fail(format!(
            "{what}: the body ended at offset {at}, {} bytes short",
            end - at
        ));
        return;
    }
    // Nothing may follow the announced length.
    match tokio::time::timeout(stall, response.chunk()).await {
        Ok(Ok(None)) => {}
        Ok(Ok(Some(_))) => {
            tally.wrong_lengths += 1;
            tally.fail(format!(
                "{what}: the body runs past its length {}",
                plan.len
            ));
        }
        Ok(Err(e)) => {
            tally.transport_errors += 1;
            tally.fail(format!("{what}: the body's end broke: {e}"));
        }
        Err(_) => {
            tally.hung += 1;
            tally.fail(format!("{what}: the body did not end within {stall:?}"));
        }
    }
}

/// Why an answer's status or headers are not the ones `plan` must get, if they are not.
fn wrong_headers(plan: &Plan, response: &reqwest::Response) -> Option<String> {
    let header = |name| {
        response
            .headers()
            .get(name)
            .map(|v| v.to_str().unwrap_or("(not text)").to_string())
    };
    if response.status() != plan.status {
        return Some(format!(
            "status {} where {} was due",
            response.status(),
            plan.status
        ));
    }
    if header(CONTENT_RANGE) != plan.content_range {
        return Some(format!(
            "Content-Range {:?} where {:?} was due",
            header(CONTENT_RANGE),
            plan.content_range
        ));
    }
    if let Some(len) = plan.content_length()
        && header(CONTENT_LENGTH) != Some(len.to_string())
    {
        return Some(format!(
            "Content-Length {:?} where {len} was due",
            header(CONTENT_LENGTH)
        ));
    }
    if (plan.has_file_body() || plan.method == Method::HEAD)
        && header(ACCEPT_RANGES).as_deref() != Some("bytes")
    {
        return Some(format!(
            "Accept-Ranges {:?} where \"bytes\" was due",
            header(ACCEPT_RANGES)
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    use axum::extract::State;
    use axum::http::{HeaderMap, StatusCode as AxStatus};
    use axum::response::{IntoResponse, Response};

    #[test]
    fn plans_stay_inside_the_file_and_announce_what_they_read() {
        let mut rng = StdRng::seed_from_u64(1);
        for size in [1u64, 2, 7, 1000, 64 << 20] {
            for _ in 0..2000 {
                let plan = Plan::random(Kind::pick(&mut rng), size, &mut rng);
                match plan.status {
                    StatusCode::RANGE_NOT_SATISFIABLE => {
                        assert_eq!(plan.content_range, Some(format!("bytes */{size}")));
                    }
                    StatusCode::OK => {
                        assert_eq!((plan.start, plan.len, plan.range.clone()), (0, size, None));
                    }
                    StatusCode::PARTIAL_CONTENT => {
                        assert!(plan.len >= 1 && plan.start + plan.len <= size, "{plan:?}");
                        let end = plan.start + plan.len - 1;
                        let range = format!("bytes {}-{end}/{size}", plan.start);
                        assert_eq!(plan.content_range, Some(range));
                    }
                    other => panic!("{other} planned"),
                }
                if let Some(n) = plan.hang_up_after {
                    assert!(n >= 1 && n <= plan.len, "{plan:?}");
                }
            }
        }
    }

    #[test]
    fn ranges_mean_what_the_plan_expects() {
        let mut rng = StdRng::seed_from_u64(2);
        for _ in 0..2000 {
            let plan = Plan::random(Kind::pick(&mut rng), 1000, &mut rng);
            if let Some(range) = &plan.range
                && plan.status == StatusCode::PARTIAL_CONTENT
            {
                assert_eq!(
                    resolve(range, 1000),
                    Some((plan.start, plan.len)),
                    "{plan:?}"
                );
            }
        }
    }

    #[test]
    fn every_kind_is_picked() {
        let mut rng = StdRng::seed_from_u64(3);
        let picked: std::collections::BTreeSet<Kind> =
            (0..1000).map(|_| Kind::pick(&mut rng)).collect();
        assert_eq!(picked.len(), Kind::WEIGHTS.len());
    }

    /// `bytes=a-b`, `bytes=a-`, `bytes=-n` on a file of `size`: `(start, len)`, or `None`
    /// when unsatisfiable. The fake server's reading of a Range, kept apart from `Plan`.
    fn resolve(range: &str, size: u64) -> Option<(u64, u64)> {
        let spec = range.strip_prefix("bytes=")?;
        let (a, b) = spec.split_once('-')?;
        if a.is_empty() {
            let n: u64 = b.parse().ok()?;
            return (n > 0).then(|| (size - n.min(size), n.min(size)));
        }
        let start: u64 = a.parse().ok()?;
        let last = if b.is_empty() {
            size - 1
        } else {
            b.parse::<u64>().ok()?.min(size - 1)
        };
        if start < size && start <= last {
            Some((start, last - start + 1))
        } else {
            None
        }
    }

    /// How the fake server misbehaves.
    #[derive(Clone, Copy, PartialEq)]
    enum Fault {
        None,
        FlipByte(u64),
        ServerError,
        ShortBody,
        WrongContentRange,
    }

    #[derive(Clone, Copy)]
    struct Fake {
        pattern: Pattern,
        size: u64,
        fault: Fault,
    }

    async fn serve(State(fake): State<Fake>, method: Method, headers: HeaderMap) -> Response {
        if fake.fault == Fault::ServerError {
            return AxStatus::INTERNAL_SERVER_ERROR.into_response();
        }
        let size = fake.size;
        let (status, start, len) = match headers.get("range").and_then(|r| r.to_str().ok()) {
            None => (AxStatus::OK, 0, size),
            Some(r) => match resolve(r, size) {
                Some((start, len)) => (AxStatus::PARTIAL_CONTENT, start, len),
                None => {
                    return (
                        AxStatus::RANGE_NOT_SATISFIABLE,
                        [("content-range", format!("bytes */{size}"))],
                    )
                        .into_response();
                }
            },
        };
        let mut body = vec![0u8; len as usize];
        fake.pattern.fill(start, &mut body);
        if let Fault::FlipByte(at) = fake.fault
            && (start..start + len).contains(&at)
        {
            body[(at - start) as usize] ^= 0xff;
        }
        let mut announced = len;
        if fake.fault == Fault::ShortBody && len > 1 {
            body.pop();
            announced = len - 1;
        }
        let mut response = Response::builder()
            .status(status)
            .header("accept-ranges", "bytes")
            .header("content-length", announced);
        if status == AxStatus::PARTIAL_CONTENT {
            let shown_start = if fake.fault == Fault::WrongContentRange {
                start + 1
            } else {
                start
            };
            response = response.header(
                "content-range",
                format!("bytes {shown_start}-{}/{size}", start + len - 1),
            );
        }
        let body = if method == Method::HEAD {
            Vec::new()
        } else {
            body
        };
        response.body(axum::body::Body::from(body)).unwrap()
    }

    /// Runs one client for `requests` requests against a fake server with `fault`.
    async fn against(fault: Fault, requests: u64) -> Tally {
        let fake = Fake {
            pattern: Pattern::new(11, 0),
            // Larger than a body chunk, so a client can hang up mid-body.
            size: 1 << 20,
            fault,
        };
        let app = axum::Router::new()
            .route("/f", axum::routing::get(serve))
            .with_state(fake);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/f", listener.local_addr().unwrap());
        let server = tokio::spawn(async move { axum::serve(listener, app).await });
        let targets = Arc::new(vec![Target {
            url,
            size: fake.size,
            pattern: fake.pattern,
        }]);
        let budget = Arc::new(Budget {
            until: Instant::now() + Duration::from_secs(60),
            requests: Some(AtomicU64::new(requests)),
        });
        let tally = client(4, targets, budget, Duration::from_secs(10)).await;
        server.abort();
        tally
    }

    #[tokio::test]
    async fn a_correct_server_passes_every_check() {
        let t = against(Fault::None, 300).await;
        assert_eq!(t.requests, 300);
        assert_eq!(t.statuses.values().sum::<u64>(), 300);
        assert!(t.bytes_checked > 0);
        assert_eq!(
            (t.wrong_bytes, t.wrong_answers, t.wrong_lengths),
            (0, 0, 0),
            "{:?}",
            t.failures
        );
        assert_eq!((t.transport_errors, t.hung, t.server_errors()), (0, 0, 0));
        assert!(t.statuses.contains_key(&206) && t.statuses.contains_key(&416));
        assert!(t.hung_up > 0);
        assert!(!t.first_byte_us.is_empty());
    }

    #[tokio::test]
    async fn each_fault_is_caught() {
        // The middle byte lies in many of the requested ranges.
        let t = against(Fault::FlipByte(1 << 19), 300).await;
        assert!(t.wrong_bytes > 0 && !t.failures.is_empty(), "{t:?}");
        let t = against(Fault::ServerError, 20).await;
        assert_eq!(t.server_errors(), 20);
        let t = against(Fault::ShortBody, 100).await;
        assert!(t.wrong_answers + t.wrong_lengths > 0, "{t:?}");
        let t = against(Fault::WrongContentRange, 100).await;
        assert!(t.wrong_answers > 0, "{t:?}");
    }
}
