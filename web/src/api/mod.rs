//! The Prometheus HTTP API: paths, parameters (query string and
//! form-encoded POST), JSON shapes and error types as Prometheus has them.

mod federate;
pub mod json;
mod params;
mod transfer;

use crate::{AppState, TargetInfo};
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use params::Params;
pub use params::MAX_FORM_BODY;
use promql::{parse, Value};
use serde_json::{json, Map, Value as Json};
use std::sync::atomic::Ordering;
use storage::model::timestamp;
use storage::{Labels, Matcher};

/// Prometheus's error types with their status codes.
#[derive(Debug, Clone, Copy)]
pub enum ErrorType {
    /// 400: a parameter or the query is bad.
    BadData,
    /// 422: the query could not be evaluated.
    Execution,
    /// 503: the query timed out.
    Timeout,
    /// 500: Vigil failed.
    Internal,
    /// 404: no such thing.
    NotFound,
    /// 503: not ready yet.
    Unavailable,
    /// The client went away (Prometheus answers 499, which it will not read).
    Canceled,
}

impl ErrorType {
    fn parts(self) -> (StatusCode, &'static str) {
        match self {
            ErrorType::BadData => (StatusCode::BAD_REQUEST, "bad_data"),
            ErrorType::Execution => (StatusCode::UNPROCESSABLE_ENTITY, "execution"),
            ErrorType::Timeout => (StatusCode::SERVICE_UNAVAILABLE, "timeout"),
            ErrorType::Internal => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
            ErrorType::NotFound => (StatusCode::NOT_FOUND, "not_found"),
            ErrorType::Unavailable => (StatusCode::SERVICE_UNAVAILABLE, "unavailable"),
            ErrorType::Canceled => (StatusCode::from_u16(499).unwrap_or(StatusCode::BAD_REQUEST), "canceled"),
        }
    }
}

/// An API error, rendered as `{"status":"error","errorType":…,"error":…}`.
#[derive(Debug)]
pub struct ApiError(pub ErrorType, pub String);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (code, kind) = self.0.parts();
        let body = json!({"status": "error", "errorType": kind, "error": self.1});
        (code, [(header::CONTENT_TYPE, "application/json")], body.to_string()).into_response()
    }
}

fn success(data: Json) -> Response {
    let body = json!({"status": "success", "data": data});
    ([(header::CONTENT_TYPE, "application/json")], body.to_string()).into_response()
}

fn bad(msg: impl Into<String>) -> ApiError {
    ApiError(ErrorType::BadData, msg.into())
}

pub use federate::federate;
pub use transfer::{export, import};

/// The largest import body accepted (before decompression).
pub const MAX_IMPORT_BODY: usize = 256 << 20;
pub use promql::format_value;

fn labels_json(l: &Labels) -> Json {
    let mut m = Map::new();
    for p in l {
        m.insert(p.name.to_string(), Json::String(p.value.to_string()));
    }
    Json::Object(m)
}

/// The `query` parameter, parsed.
fn query_param(p: &Params) -> Result<promql::Expr, ApiError> {
    let text = p.get("query").ok_or_else(|| bad("invalid parameter \"query\": query must not be empty"))?;
    parse(text).map_err(|e| bad(format!("invalid parameter \"query\": {e}")))
}

/// The `timeout` parameter: the query stops at the sooner of it and the
/// engine's own timeout, as Prometheus's does.
fn check_timeout(p: &Params) -> Result<Option<std::time::Duration>, ApiError> {
    let Some(s) = p.get("timeout") else { return Ok(None) };
    let ms = crate::time::parse_duration_param(s).map_err(|e| bad(format!("invalid parameter \"timeout\": {e}")))?;
    Ok(Some(std::time::Duration::from_millis(ms.max(0) as u64)))
}

/// GET|POST /api/v1/query
pub async fn query(
    State(st): State<AppState>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
    params::Body(body): params::Body,
) -> Result<Response, ApiError> {
    let p = Params::new(q.as_deref(), &headers, &body)?;
    let expr = query_param(&p)?;
    let t = match p.get("time") {
        Some(s) => crate::time::parse_time(s).map_err(|e| bad(format!("invalid parameter \"time\": {e}")))?,
        None => timestamp::now_ms(),
    };
    let timeout = check_timeout(&p)?;
    let (value, annotations) =
        evaluate(&st, crate::QueryKind::Instant, timeout, move |engine, db| engine.instant_annotated(db, &expr, t))
            .await?;
    let mut data = String::new();
    match &value {
        Value::Scalar { t, v } => json::scalar(&mut data, *t, *v),
        Value::String { t, s } => json::string_result(&mut data, *t, s),
        Value::Vector(v) => json::vector(&mut data, v),
        Value::Matrix(m) => json::matrix(&mut data, m),
    }
    Ok(annotated(data, &annotations))
}

/// A success answer around rendered `data`, with Prometheus's `warnings`
/// and `infos` when there are any.
fn annotated(data: String, a: &promql::Annotations) -> Response {
    let mut body = String::with_capacity(data.len() + 64);
    body.push_str(r#"{"status":"success","data":"#);
    body.push_str(&data);
    drop(data);
    for (key, list) in [("warnings", &a.warnings), ("infos", &a.infos)] {
        if !list.is_empty() {
            body.push_str(",\"");
            body.push_str(key);
            body.push_str("\":[");
            for (i, m) in list.iter().enumerate() {
                if i > 0 {
                    body.push(',');
                }
                json::string(&mut body, m);
            }
            body.push(']');
        }
    }
    body.push('}');
    ([(header::CONTENT_TYPE, "application/json")], body).into_response()
}

/// Runs a query on the blocking pool: evaluation is CPU work and must not
/// hold up the runtime's I/O (scrapes share it). When the client goes away,
/// the server drops this future, and the query stops at its next check.
async fn evaluate<F>(
    st: &AppState,
    kind: crate::QueryKind,
    timeout: Option<std::time::Duration>,
    f: F,
) -> Result<(Value, promql::Annotations), ApiError>
where
    F: FnOnce(&promql::Engine, &storage::Db) -> Result<(Value, promql::Annotations), promql::EvalError>
        + Send
        + 'static,
{
    let (mut st, _cancel) = st.cancellable();
    if let Some(t) = timeout {
        st.engine.timeout = st.engine.timeout.min(t);
    }
    tokio::task::spawn_blocking(move || st.timed(kind, |engine| f(engine, &st.db)))
        .await
        .map_err(|e| ApiError(ErrorType::Internal, e.to_string()))?
        .map_err(exec_error)
}

fn exec_error(e: promql::EvalError) -> ApiError {
    match e {
        promql::EvalError::Timeout(_) => ApiError(ErrorType::Timeout, e.to_string()),
        promql::EvalError::Canceled(_) => ApiError(ErrorType::Canceled, e.to_string()),
        _ => ApiError(ErrorType::Execution, e.to_string()),
    }
}

/// GET|POST /api/v1/query_range
pub async fn query_range(
    State(st): State<AppState>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
    params::Body(body): params::Body,
) -> Result<Response, ApiError> {
    let p = Params::new(q.as_deref(), &headers, &body)?;
    let expr = query_param(&p)?;
    let time = |name: &str| {
        crate::time::parse_time(p.get(name).unwrap_or(""))
            .map_err(|e| bad(format!("invalid parameter \"{name}\": {e}")))
    };
    let (start, end) = (time("start")?, time("end")?);
    if end < start {
        return Err(bad("invalid parameter \"end\": end timestamp must not be before start time"));
    }
    let step = crate::time::parse_duration_param(p.get("step").unwrap_or(""))
        .map_err(|e| bad(format!("invalid parameter \"step\": {e}")))?;
    if step <= 0 {
        return Err(bad(
            "invalid parameter \"step\": zero or negative query resolution step widths are not accepted. Try a positive integer",
        ));
    }
    if (end - start) / step > 11_000 {
        return Err(bad(
            "exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)",
        ));
    }
    let timeout = check_timeout(&p)?;
    let (value, annotations) = evaluate(&st, crate::QueryKind::Range, timeout, move |engine, db| {
        engine.range_annotated(db, &expr, start, end, step)
    })
    .await?;
    match value {
        Value::Matrix(m) => {
            let mut data = String::new();
            json::matrix(&mut data, &m);
            Ok(annotated(data, &annotations))
        }
        _ => Err(ApiError(ErrorType::Internal, "range query did not return a matrix".into())),
    }
}

/// Every `match[]`, at least one of them (series, federation, export).
fn required_match_params(p: &Params) -> Result<Vec<Vec<Matcher>>, ApiError> {
    let sets = match_params(p)?;
    if sets.is_empty() {
        return Err(bad("no match[] parameter provided"));
    }
    Ok(sets)
}

/// Parses every `match[]` into matcher lists.
fn match_params(p: &Params) -> Result<Vec<Vec<Matcher>>, ApiError> {
    p.all("match[]")
        .map(|m| match parse(m) {
            Ok(promql::Expr::VectorSelector(vs)) => Ok(vs.matchers),
            Ok(_) => Err(bad(format!("invalid parameter \"match[]\": {m:?} is not a vector selector"))),
            Err(e) => Err(bad(format!("invalid parameter \"match[]\": {e}"))),
        })
        .collect()
}

fn time_range(p: &Params) -> Result<(i64, i64), ApiError> {
    let start = match p.get("start") {
        Some(s) => crate::time::parse_time(s).map_err(|e| bad(format!("invalid parameter \"start\": {e}")))?,
        None => i64::MIN,
    };
    let end = match p.get("end") {
        Some(s) => crate::time::parse_time(s).map_err(|e| bad(format!("invalid parameter \"end\": {e}")))?,
        None => i64::MAX,
    };
    if end < start {
        return Err(bad("invalid parameter \"end\": end timestamp must not be before start time"));
    }
    Ok((start, end))
}

fn limit(p: &Params) -> Result<usize, ApiError> {
    match p.get("limit") {
        None => Ok(0),
        Some(s) => s
            .parse::<usize>()
            .map_err(|_| bad(format!("invalid parameter \"limit\": cannot parse {s:?} to a valid limit"))),
    }
}

fn truncated(mut v: Vec<String>, limit: usize) -> (Vec<String>, bool) {
    let cut = limit > 0 && v.len() > limit;
    if cut {
        v.truncate(limit);
    }
    (v, cut)
}

fn with_warning(data: Json, cut: bool) -> Response {
    if !cut {
        return success(data);
    }
    let body = json!({"status": "success", "data": data, "warnings": ["results truncated due to limit"]});
    ([(header::CONTENT_TYPE, "application/json")], body.to_string()).into_response()
}

/// What `find` answers for all series (no `match[]`), or the sorted union
/// of its answers for each `match[]`.
fn union_over(sets: &[Vec<Matcher>], find: impl Fn(&[Matcher]) -> Vec<String>) -> Vec<String> {
    if sets.is_empty() {
        return find(&[]);
    }
    let mut all = std::collections::BTreeSet::new();
    for m in sets {
        all.extend(find(m));
    }
    all.into_iter().collect()
}

/// GET|POST /api/v1/labels
pub async fn labels(
    State(st): State<AppState>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
    params::Body(body): params::Body,
) -> Result<Response, ApiError> {
    let p = Params::new(q.as_deref(), &headers, &body)?;
    let sets = match_params(&p)?;
    // Series count when their chunks overlap the range (Prometheus answers
    // from the blocks overlapping it): no sample is read.
    let (start, end) = time_range(&p)?;
    let names = union_over(&sets, |m| st.db.label_names(m, start, end));
    let (names, cut) = truncated(names, limit(&p)?);
    Ok(with_warning(json!(names), cut))
}

/// `GET /api/v1/label/<name>/values`
pub async fn label_values(
    State(st): State<AppState>,
    Path(name): Path<String>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let p = Params::new(q.as_deref(), &headers, &Bytes::new())?;
    let sets = match_params(&p)?;
    // By chunk time ranges, as for `labels`.
    let (start, end) = time_range(&p)?;
    let values = union_over(&sets, |m| st.db.label_values(&name, m, start, end));
    let (values, cut) = truncated(values, limit(&p)?);
    Ok(with_warning(json!(values), cut))
}

/// GET|POST /api/v1/series
pub async fn series(
    State(st): State<AppState>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
    params::Body(body): params::Body,
) -> Result<Response, ApiError> {
    let p = Params::new(q.as_deref(), &headers, &body)?;
    let sets = required_match_params(&p)?;
    // Checked, and spanned by every series in the head (see `labels`).
    let (start, end) = time_range(&p)?;
    let mut seen = std::collections::BTreeSet::new();
    for m in &sets {
        seen.extend(st.db.series_labels(m, start, end));
    }
    let lim = limit(&p)?;
    let cut = lim > 0 && seen.len() > lim;
    let out: Vec<Json> = seen.iter().take(if lim > 0 { lim } else { usize::MAX }).map(labels_json).collect();
    Ok(with_warning(Json::Array(out), cut))
}

fn target_json(job: &str, t: &TargetInfo) -> Json {
    json!({
        "discoveredLabels": labels_json(&t.discovered),
        "labels": labels_json(&t.labels),
        "scrapePool": job,
        "scrapeUrl": t.url,
        "globalUrl": t.url,
        "lastError": t.last_error,
        "lastScrape": t.last_scrape.map_or("0001-01-01T00:00:00Z".to_string(), |s| crate::time::format_rfc3339(timestamp::from_system_time(s))),
        "lastScrapeDuration": t.last_duration.as_secs_f64(),
        "health": t.health,
        "scrapeInterval": format_secs(t.interval),
        "scrapeTimeout": format_secs(t.timeout),
    })
}

fn format_secs(d: std::time::Duration) -> String {
    let ms = d.as_millis() as u64;
    if !ms.is_multiple_of(1000) {
        return format!("{ms}ms");
    }
    let s = ms / 1000;
    match s {
        s if s > 0 && s % 3600 == 0 => format!("{}h", s / 3600),
        s if s > 0 && s % 60 == 0 => format!("{}m", s / 60),
        s => format!("{s}s"),
    }
}

/// GET /api/v1/targets
pub async fn targets(
    State(st): State<AppState>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let p = Params::new(q.as_deref(), &headers, &Bytes::new())?;
    let state = p.get("state").unwrap_or("any");
    let pool_filter = p.get("scrapePool");
    let mut active = Vec::new();
    let mut dropped = Vec::new();
    let mut counts = Map::new();
    for pool in st.scrapes.pools() {
        if pool_filter.is_some_and(|f| f != pool.job) {
            continue;
        }
        counts.insert(pool.job.clone(), json!(pool.dropped.len()));
        active.extend(pool.targets.iter().map(|t| target_json(&pool.job, t)));
        dropped.extend(pool.dropped.iter().map(|d| json!({"discoveredLabels": labels_json(d)})));
    }
    let data = match state {
        "active" => json!({"activeTargets": active, "droppedTargets": []}),
        "dropped" => json!({"activeTargets": [], "droppedTargets": dropped, "droppedTargetCounts": counts}),
        _ => json!({"activeTargets": active, "droppedTargets": dropped, "droppedTargetCounts": counts}),
    };
    Ok(success(data))
}

/// A metadata `limit`: negative (the default) means none; Prometheus's message.
fn metadata_limit(p: &Params, name: &str) -> Result<i64, ApiError> {
    match p.get(name) {
        None | Some("") => Ok(-1),
        Some(s) => s.parse::<i64>().map_err(|_| bad(format!("{} must be a number", name.replace('_', " ")))),
    }
}

fn metadata_json(m: &storage::MetricMetadata) -> Json {
    json!({"type": m.kind, "help": m.help, "unit": m.unit})
}

/// GET /api/v1/metadata: each family's distinct metadata across targets
/// (`metric`, `limit`, `limit_per_metric` as Prometheus has them).
pub async fn metadata(
    State(st): State<AppState>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let p = Params::new(q.as_deref(), &headers, &Bytes::new())?;
    let limit = metadata_limit(&p, "limit")?;
    let per_metric = metadata_limit(&p, "limit_per_metric")?;
    let metric = p.get("metric").unwrap_or("");
    let mut families: std::collections::BTreeMap<&str, Vec<&storage::MetricMetadata>> = Default::default();
    let pools = st.scrapes.pools();
    for t in pools.iter().flat_map(|p| &p.targets) {
        for m in t.metadata.iter().filter(|m| metric.is_empty() || m.metric == metric) {
            let set = families.entry(&m.metric).or_default();
            let same = |x: &&storage::MetricMetadata| x.kind == m.kind && x.help == m.help && x.unit == m.unit;
            if (per_metric <= 0 || (set.len() as i64) < per_metric) && !set.iter().any(same) {
                set.push(m);
            }
        }
    }
    let mut out = Map::new();
    for (name, set) in families {
        if limit >= 0 && out.len() as i64 >= limit {
            break;
        }
        out.insert(name.to_string(), set.into_iter().map(metadata_json).collect());
    }
    Ok(success(Json::Object(out)))
}

/// GET /api/v1/targets/metadata: metadata per target (`match_target`,
/// `metric`, `limit`).
pub async fn targets_metadata(
    State(st): State<AppState>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let p = Params::new(q.as_deref(), &headers, &Bytes::new())?;
    let limit = metadata_limit(&p, "limit")?;
    let matchers = match p.get("match_target").filter(|s| !s.is_empty()) {
        None => Vec::new(),
        Some(sel) => match parse(sel) {
            Ok(promql::Expr::VectorSelector(vs)) => vs.matchers,
            Ok(_) => return Err(bad(format!("invalid parameter \"match_target\": {sel:?} is not a selector"))),
            Err(e) => return Err(bad(e.to_string())),
        },
    };
    let metric = p.get("metric").unwrap_or("");
    let mut out = Vec::new();
    for t in st.scrapes.pools().iter().flat_map(|p| &p.targets) {
        if limit >= 0 && out.len() as i64 >= limit {
            break;
        }
        if !matchers.iter().all(|m| m.matches(t.labels.get_or_empty(&m.name))) {
            continue;
        }
        for m in t.metadata.iter().filter(|m| metric.is_empty() || m.metric == metric) {
            let mut e = json!({"target": labels_json(&t.labels), "type": m.kind, "help": m.help, "unit": m.unit});
            if metric.is_empty() {
                e["metric"] = json!(m.metric);
            }
            out.push(e);
        }
    }
    Ok(success(Json::Array(out)))
}

/// GET|POST /api/v1/query_exemplars: Vigil stores no exemplars, so the
/// answer is always empty once the parameters check out.
pub async fn query_exemplars(
    RawQuery(q): RawQuery,
    headers: HeaderMap,
    params::Body(body): params::Body,
) -> Result<Response, ApiError> {
    let p = Params::new(q.as_deref(), &headers, &body)?;
    time_range(&p)?;
    query_param(&p)?;
    Ok(success(json!([])))
}

/// GET|POST /api/v1/format_query: the expression laid out as Prometheus's prettier does.
pub async fn format_query(
    RawQuery(q): RawQuery,
    headers: HeaderMap,
    params::Body(body): params::Body,
) -> Result<Response, ApiError> {
    let p = Params::new(q.as_deref(), &headers, &body)?;
    Ok(success(Json::String(query_param(&p)?.pretty())))
}

/// GET /api/v1/status/config: `{"yaml": …}`.
pub async fn status_config(State(st): State<AppState>) -> Response {
    success(json!({"yaml": st.control.config_yaml()}))
}

/// GET /api/v1/status/flags: flag name → value.
pub async fn status_flags(State(st): State<AppState>) -> Response {
    let flags: Map<String, Json> = st.control.flags().into_iter().map(|(k, v)| (k, Json::String(v))).collect();
    success(Json::Object(flags))
}

/// GET /api/v1/status/runtimeinfo, with Prometheus's field names.
pub async fn runtime_info(State(st): State<AppState>) -> Response {
    let r = st.control.runtime_info();
    success(json!({
        "startTime": crate::time::format_rfc3339(timestamp::from_system_time(r.start_time)),
        "CWD": r.cwd,
        "reloadConfigSuccess": r.reload_config_success,
        "lastConfigTime": crate::time::format_rfc3339(timestamp::from_system_time(r.last_config_time)),
        "corruptionCount": r.corruption_count,
        "goroutineCount": r.task_count,
        "GOMAXPROCS": r.workers,
        "GOMEMLIMIT": 0,
        "GOGC": "",
        "GODEBUG": "",
        "storageRetention": r.storage_retention,
    }))
}

/// GET /api/v1/status/buildinfo
pub async fn buildinfo() -> Response {
    success(json!({
        "version": env!("CARGO_PKG_VERSION"),
        "revision": "",
        "branch": "",
        "buildUser": "",
        "buildDate": "",
        "goVersion": "",
    }))
}

/// GET /api/v1/status/tsdb: cardinality, as Prometheus's (`limit`, default 10).
pub async fn tsdb_status(State(st): State<AppState>, RawQuery(q): RawQuery) -> Result<Response, ApiError> {
    let p = Params::new(q.as_deref(), &HeaderMap::new(), &Bytes::new())?;
    let lim = match limit(&p)? {
        0 => 10,
        n => n,
    };
    let c = st.db.cardinality(lim);
    let list = |v: &[(String, u64)]| -> Json { v.iter().map(|(n, c)| json!({"name": n, "value": c})).collect() };
    let (min_t, max_t) = st.db.time_bounds().unwrap_or((0, 0));
    Ok(success(json!({
        "headStats": {
            "numSeries": c.num_series,
            "chunkCount": st.db.chunks_in_memory(),
            "minTime": min_t,
            "maxTime": max_t,
        },
        "seriesCountByMetricName": list(&c.series_by_metric),
        "labelValueCountByLabelName": list(&c.values_by_label),
        "memoryInBytesByLabelName": list(&c.bytes_by_label),
        "seriesCountByLabelValuePair": list(&c.series_by_pair),
    })))
}

/// POST /api/v1/admin/tsdb/snapshot (with `--web.enable-admin-api`): a
/// consistent copy of the data dir in `<data dir>/snapshots/<name>`, which
/// Vigil opens with `--data-dir`. Answers `{"name": …}` as Prometheus does.
pub async fn snapshot(State(st): State<AppState>) -> Response {
    if !st.admin_api {
        return ApiError(ErrorType::Unavailable, "admin APIs disabled".into()).into_response();
    }
    let Some(dir) = st.db.path().map(|p| p.join("snapshots")) else {
        return ApiError(ErrorType::Unavailable, "an in-memory store has no snapshots".into()).into_response();
    };
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    let stamp: String = crate::time::format_rfc3339(now.as_millis() as i64)
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .take(15)
        .collect();
    let name = format!("{stamp}Z-{:016x}", now.as_nanos() as u64 ^ u64::from(std::process::id()).rotate_left(40));
    let path = dir.join(&name);
    let db = st.db.clone();
    match tokio::task::spawn_blocking(move || db.snapshot(&path)).await {
        Ok(Ok(())) => success(json!({ "name": name })),
        Ok(Err(e)) => ApiError(ErrorType::Internal, format!("create snapshot: {e}")).into_response(),
        Err(e) => ApiError(ErrorType::Internal, format!("create snapshot: {e}")).into_response(),
    }
}

/// GET /metrics: Vigil's own metrics.
pub async fn metrics(State(st): State<AppState>) -> Response {
    let (text, ct) = st.control.metrics();
    ([(header::CONTENT_TYPE, ct)], text).into_response()
}

/// GET /-/healthy
pub async fn healthy() -> &'static str {
    "Vigil is Healthy.\n"
}

/// GET /-/ready: 200 once queries can be served.
pub async fn ready(State(st): State<AppState>) -> Response {
    if st.ready.load(Ordering::Acquire) {
        "Vigil is Ready.\n".into_response()
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "Service Unavailable\n").into_response()
    }
}

/// POST|PUT /-/reload: a bad config keeps the running one; the answer says why.
pub async fn reload(State(st): State<AppState>) -> Response {
    let control = st.control.clone();
    match tokio::task::spawn_blocking(move || control.reload()).await {
        Ok(Ok(())) => (StatusCode::OK, "").into_response(),
        Ok(Err(e)) => (StatusCode::INTERNAL_SERVER_ERROR, format!("failed to reload config: {e}\n")).into_response(),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, format!("failed to reload config: {e}\n")).into_response(),
    }
}

/// Unknown paths: Prometheus's JSON error under /api, plain 404 elsewhere.
pub async fn not_found(uri: axum::http::Uri) -> Response {
    if uri.path().starts_with("/api/") {
        ApiError(ErrorType::NotFound, format!("unknown API endpoint {}", uri.path())).into_response()
    } else {
        (StatusCode::NOT_FOUND, "404 page not found\n").into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_formatted_as_prometheus() {
        assert_eq!(format_value(1.0), "1");
        assert_eq!(format_value(0.1), "0.1");
        assert_eq!(format_value(1e21), "1e+21");
        assert_eq!(format_value(f64::NAN), "NaN");
        assert_eq!(format_value(f64::NEG_INFINITY), "-Inf");
    }

    #[test]
    fn durations_formatted_as_prometheus() {
        assert_eq!(format_secs(std::time::Duration::from_secs(15)), "15s");
        assert_eq!(format_secs(std::time::Duration::from_secs(60)), "1m");
        assert_eq!(format_secs(std::time::Duration::from_millis(1500)), "1500ms");
    }
}
