//! The native query model: [`Query`] (the fields every query type shares) and the
//! type-specific specs in [`spec`], parsed from JSON by hand so that every failure carries
//! Druid's error code, class and a message close to Jackson's.

pub(crate) mod aggregator;
pub(crate) mod context;
pub(crate) mod dimension;
pub(crate) mod extraction;
pub(crate) mod filter;
pub(crate) mod having;
mod json;
pub(crate) mod metadata;
pub(crate) mod post_aggregator;
pub(crate) mod search;
mod source;
pub(crate) mod spec;
pub(crate) mod virtual_column;

use std::fmt::Write as _;
use std::sync::Arc;

use henge_segment::time::Interval;
use serde_json::{Map, Value};

use self::json::{type_id, Fields};
use self::source::{parse_source, Base};
use self::spec::{QueryKind, ScanOrder};
use self::virtual_column::{aggregator_columns, parse_virtual_columns, VirtualColumn};
use crate::error::QueryError;
use crate::join::{JoinClause, Right, Table};
use crate::parse::Limits;

const QUERY_CLASS: &str = "org.apache.druid.query.Query";

/// Query types Druid registers on `Query` (for the unknown-type message).
const KNOWN_QUERY_TYPES: &[&str] = &[
    "dataSourceMetadata",
    "groupBy",
    "scan",
    "search",
    "segmentMetadata",
    "timeBoundary",
    "timeseries",
    "topN",
    "windowOperator",
];

/// A parsed, validated native query.
#[derive(Clone, Debug, PartialEq)]
pub struct Query {
    raw: Value,
    query_type: &'static str,
    data_source: String,
    /// The query of a `{"type": "query"}` data source, run first; this query then reads its
    /// result rows.
    inner: Option<Box<Query>>,
    /// An inline or lookup data source, read whole where the query arrives.
    local: Option<Arc<Table>>,
    /// The joins applied to what the query reads, left-deep.
    pub(crate) joins: Vec<JoinClause>,
    intervals: Vec<Interval>,
    context: Map<String, Value>,
    /// Most group rows a groupBy may hold per segment and per merge.
    max_group_rows: usize,
    pub(crate) kind: QueryKind,
    /// `virtualColumns`, then the hidden columns of aggregators with an `expression`.
    pub(crate) virtual_columns: Vec<VirtualColumn>,
    /// Whether the query mentions `lookup` anywhere (see [`Query::may_read_lookups`]), found
    /// once when parsed.
    mentions_lookup: bool,
}

/// Whether `lookup` appears, in any case, in a key or string anywhere in `value`.
fn mentions_lookup(value: &Value) -> bool {
    let names = |text: &str| {
        text.as_bytes()
            .windows(6)
            .any(|window| window.eq_ignore_ascii_case(b"lookup"))
    };
    match value {
        Value::String(text) => names(text),
        Value::Array(items) => items.iter().any(mentions_lookup),
        Value::Object(fields) => fields
            .iter()
            .any(|(key, field)| names(key) || mentions_lookup(field)),
        Value::Null | Value::Bool(_) | Value::Number(_) => false,
    }
}

/// Context keys that change how a query runs but never its answer.
const RUN_ONLY_CONTEXT: [&str; 9] = [
    "queryId",
    "sqlQueryId",
    "useCache",
    "populateCache",
    "useResultLevelCache",
    "populateResultLevelCache",
    "timeout",
    "priority",
    "lane",
];

impl Query {
    /// Builds a query from its JSON object.
    pub(crate) fn from_json(raw: Value, limits: &Limits) -> Result<Query, QueryError> {
        let fields = Fields::of(&raw, QUERY_CLASS)?;
        let Some(type_name) = type_id(&raw, "queryType") else {
            return Err(QueryError::missing_type("queryType", QUERY_CLASS));
        };
        let query_type: &'static str = match type_name {
            "timeseries" => "timeseries",
            "topN" => "topN",
            "groupBy" => "groupBy",
            "scan" => "scan",
            "timeBoundary" => "timeBoundary",
            "dataSourceMetadata" => "dataSourceMetadata",
            "segmentMetadata" => "segmentMetadata",
            "search" => "search",
            known if KNOWN_QUERY_TYPES.contains(&known) => {
                return Err(QueryError::unsupported(format!(
                    "query type [{known}] is not supported yet"
                )))
            }
            unknown => {
                return Err(QueryError::unknown_type(
                    unknown,
                    QUERY_CLASS,
                    KNOWN_QUERY_TYPES,
                ))
            }
        };
        let source = parse_source(fields.get("dataSource"), limits, "/dataSource")?;
        let (data_source, inner, local) = match source.base {
            Base::Table(name) => (name, None, None),
            Base::Query(inner) => (inner.data_source.clone(), Some(inner), None),
            Base::Local(name, table) => (name, None, Some(table)),
        };
        let joins = source.joins;
        let reads_rows = matches!(query_type, "timeseries" | "topN" | "groupBy" | "scan");
        if (local.is_some() || !joins.is_empty()) && !reads_rows {
            return Err(QueryError::unsupported(format!(
                "a {query_type} query over a join, inline or lookup data source is not supported"
            )));
        }
        let intervals = match fields.get("intervals") {
            Some(value) => parse_intervals(value)?,
            // Druid's TimeBoundaryQuery and DataSourceMetadataQuery default to ETERNITY; so does
            // segmentMetadata here (Druid's broker uses a configurable recent history); every
            // other query requires them.
            None if matches!(
                query_type,
                "timeBoundary" | "dataSourceMetadata" | "segmentMetadata"
            ) =>
            {
                vec![Interval::ETERNITY]
            }
            None => return Err(QueryError::invalid_query("querySegmentSpec can't be null")),
        };
        let context = match fields.get("context") {
            None => Map::new(),
            Some(Value::Object(context)) => context.clone(),
            Some(other) => return Err(json::mismatch("java.util.Map", other)),
        };
        let max_group_rows = context::group_rows_limit(&context, limits.max_group_rows)?;
        // Druid's timeBoundary, dataSourceMetadata and segmentMetadata have no virtual
        // columns; like Jackson, they ignore the field.
        let mut virtual_columns = match query_type {
            "timeseries" | "topN" | "groupBy" | "scan" => {
                parse_virtual_columns(fields.array("virtualColumns")?, limits)?
            }
            _ => Vec::new(),
        };
        let kind = match query_type {
            "timeseries" => {
                QueryKind::Timeseries(spec::parse_timeseries(&fields, limits, &context)?)
            }
            "topN" => QueryKind::TopN(spec::parse_topn(&fields, limits)?),
            "groupBy" => QueryKind::GroupBy(spec::parse_group_by(&fields, limits)?),
            "scan" => QueryKind::Scan(spec::parse_scan(&fields, limits)?),
            "timeBoundary" => QueryKind::TimeBoundary(spec::parse_time_boundary(&fields, limits)?),
            "segmentMetadata" => {
                QueryKind::SegmentMetadata(metadata::parse_segment_metadata(&fields)?)
            }
            "search" => QueryKind::Search(search::parse_search(&fields, limits)?),
            _ => QueryKind::DataSourceMetadata,
        };
        let aggregations = match &kind {
            QueryKind::Timeseries(spec) => spec.aggregations.as_slice(),
            QueryKind::TopN(spec) => spec.aggregations.as_slice(),
            QueryKind::GroupBy(spec) => spec.aggregations.as_slice(),
            _ => &[],
        };
        virtual_columns.extend(aggregator_columns(aggregations));
        let mentions_lookup = mentions_lookup(&raw);
        let mut query = Query {
            mentions_lookup,
            raw,
            query_type,
            data_source,
            inner,
            local,
            joins,
            intervals,
            context,
            max_group_rows,
            kind,
            virtual_columns,
        };
        query.pass_context_down();
        Ok(query)
    }

    /// Gives every subquery (a query data source's inner query, a join's `query` right side)
    /// the execution keys of this query's context that its own context lacks.
    fn pass_context_down(&mut self) {
        let subqueries =
            self.inner
                .iter_mut()
                .map(Box::as_mut)
                .chain(
                    self.joins
                        .iter_mut()
                        .filter_map(|clause| match &mut clause.right {
                            Right::Query(query) => Some(query.as_mut()),
                            Right::Table(_) => None,
                        }),
                );
        for subquery in subqueries {
            subquery.inherit_context(&self.context);
        }
    }

    /// Gives this subquery (and, through it, its own subqueries) the execution keys of
    /// `outer`'s context that its own context lacks ([`context::INHERITED`]), in the JSON forwarded to data
    /// nodes too. Druid does this for a groupBy's inner groupBy only; here `useCache: false`
    /// on any outer query reaches every query it runs.
    fn inherit_context(&mut self, outer: &Map<String, Value>) {
        let inherited: Vec<(&String, &Value)> = outer
            .iter()
            .filter(|(key, _)| context::INHERITED.contains(&key.as_str()))
            .filter(|(key, _)| !self.context.contains_key(key.as_str()))
            .collect();
        if inherited.is_empty() {
            return;
        }
        for (key, value) in inherited {
            self.context.insert(key.clone(), value.clone());
        }
        if let Value::Object(raw) = &mut self.raw {
            raw.insert("context".to_owned(), Value::Object(self.context.clone()));
        }
        self.pass_context_down();
    }

    /// The table this query reads (through its inner queries, for a query data source).
    pub fn datasource(&self) -> &str {
        &self.data_source
    }

    /// The inner query of a query data source: run it first, then this query over its
    /// result with [`crate::run_over_result`].
    pub fn inner_query(&self) -> Option<&Query> {
        self.inner.as_deref()
    }

    /// The queries on the right side of this query's joins that the broker runs first, in
    /// order; hand their results to [`Self::with_join_results`].
    pub fn join_subqueries(&self) -> Vec<&Query> {
        self.joins
            .iter()
            .filter_map(|clause| match &clause.right {
                Right::Query(query) => Some(query.as_ref()),
                Right::Table(_) => None,
            })
            .collect()
    }

    /// This query with each `query` right side of its joins replaced by the rows of its
    /// finalized result (`results`, in [`Self::join_subqueries`] order), as an inline data
    /// source in the JSON forwarded to data nodes. More than `maxSubqueryRows` rows in one
    /// result fail the query, as in Druid.
    pub fn with_join_results(&self, results: &[Value]) -> Result<Query, QueryError> {
        let max_rows = crate::nested::max_subquery_rows(self);
        let mut query = self.clone();
        let mut results = results.iter();
        for clause in &mut query.joins {
            let Right::Query(inner) = &clause.right else {
                continue;
            };
            let result = results
                .next()
                .ok_or_else(|| QueryError::internal("a join subquery has no result"))?;
            let table = crate::nested::result_table(inner, result, max_rows)?;
            if let Some(slot) = query.raw.pointer_mut(&clause.pointer) {
                *slot = table.to_inline_json();
            }
            clause.right = Right::Table(Arc::new(table));
        }
        Ok(query)
    }

    /// Whether the query reads an inline or lookup data source, which holds all its rows:
    /// run it where it arrives with [`crate::run_local`].
    pub fn is_local(&self) -> bool {
        self.local.is_some()
    }

    pub(crate) fn local_table(&self) -> Option<&Table> {
        self.local.as_deref()
    }

    /// Whether the query joins anything (its per-segment results depend on more than the
    /// segment, so they are not cached).
    pub fn has_joins(&self) -> bool {
        !self.joins.is_empty()
    }

    /// The query intervals, sorted and condensed (overlapping or abutting ones merged).
    pub fn intervals(&self) -> &[Interval] {
        &self.intervals
    }

    /// `timeseries`, `topN`, `groupBy`, `scan`, `timeBoundary`, `dataSourceMetadata` or
    /// `segmentMetadata`.
    pub fn query_type(&self) -> &str {
        self.query_type
    }

    /// The query context (empty when absent).
    pub fn context(&self) -> &Map<String, Value> {
        &self.context
    }

    /// `context.queryId`, when the client set one.
    pub fn id(&self) -> Option<&str> {
        self.context.get("queryId").and_then(Value::as_str)
    }

    /// The query with `context.queryId` set to `id`, in the JSON forwarded to other nodes
    /// too (Druid's broker gives every query an id before it fans out).
    pub fn with_id(mut self, id: &str) -> Query {
        let value = Value::String(id.to_owned());
        self.context.insert("queryId".to_owned(), value.clone());
        if let Value::Object(raw) = &mut self.raw {
            match raw.get_mut("context") {
                Some(Value::Object(context)) => {
                    context.insert("queryId".to_owned(), value);
                }
                _ => {
                    raw.insert("context".to_owned(), serde_json::json!({"queryId": id}));
                }
            }
        }
        self
    }

    /// A long context value (Druid's `QueryContexts.getAsLong` rules).
    pub fn context_long(&self, key: &str) -> Result<Option<i64>, QueryError> {
        context::long(&self.context, key)
    }

    /// An int context value (Druid's `QueryContexts.getAsInt` rules).
    pub fn context_int(&self, key: &str) -> Result<Option<i32>, QueryError> {
        context::int(&self.context, key)
    }

    /// A boolean context value (Druid's `QueryContexts.getAsBoolean` rules).
    pub fn context_bool(&self, key: &str) -> Result<Option<bool>, QueryError> {
        context::boolean(&self.context, key)
    }

    /// A string context value (Druid's `QueryContexts.getAsString` rules).
    pub fn context_string(&self, key: &str) -> Result<Option<&str>, QueryError> {
        context::string(&self.context, key)
    }

    /// For a scan in `__time` order with a limit: whether it descends, and `offset + limit`.
    /// Such a scan's answer only needs the segments nearest its start end, up to that many
    /// rows.
    pub fn time_ordered_row_budget(&self) -> Option<(bool, usize)> {
        let QueryKind::Scan(spec) = &self.kind else {
            return None;
        };
        let budget = usize::try_from(spec.row_budget()?).ok()?;
        match spec.order {
            ScanOrder::Ascending => Some((false, budget)),
            ScanOrder::Descending => Some((true, budget)),
            ScanOrder::None => None,
        }
    }

    /// The most group rows a groupBy may hold, per segment and per merge: the server's
    /// `Limits::max_group_rows`, lowered by context `bufferGrouperMaxSize`.
    pub fn max_group_rows(&self) -> usize {
        self.max_group_rows
    }

    /// A canonical text of the query (keys sorted, no whitespace): with a segment id, the key
    /// of that segment's cached partial result. The context is left out except for the flags
    /// that change per-segment results (`skipEmptyBuckets` of timeseries), normalized, so that
    /// a zero-filled partial is never served to a query that skips empty buckets.
    pub fn cache_key(&self) -> String {
        let mut key = String::new();
        match &self.raw {
            Value::Object(object) => {
                let mut without_context = object.clone();
                without_context.remove("context");
                if let QueryKind::Timeseries(spec) = &self.kind {
                    if spec.skip_empty_buckets {
                        without_context.insert(
                            "context".to_owned(),
                            serde_json::json!({"skipEmptyBuckets": true}),
                        );
                    }
                }
                write_canonical(&Value::Object(without_context), &mut key);
            }
            other => write_canonical(other, &mut key),
        }
        key
    }

    /// A canonical text of the whole query, its context included but for the keys that only
    /// steer how it runs ([`RUN_ONLY_CONTEXT`]): with the segments it reads, the key of its
    /// cached final result.
    pub fn result_cache_key(&self) -> String {
        let mut raw = self.raw.clone();
        if let Some(Value::Object(context)) = raw.get_mut("context") {
            context.retain(|key, _| !RUN_ONLY_CONTEXT.contains(&key.as_str()));
        }
        let mut key = String::new();
        write_canonical(&raw, &mut key);
        key
    }

    /// Whether the query may name a registered lookup, whose map can change while the
    /// segments stay the same, so its results must not be cached. Conservative: any mention
    /// of `lookup` counts.
    pub fn may_read_lookups(&self) -> bool {
        self.mentions_lookup
    }

    /// The query as JSON, as received (so it can be forwarded to other nodes).
    pub fn to_json(&self) -> Value {
        self.raw.clone()
    }
}

/// `intervals`: `"a/b"`, `["a/b", ...]` or `{"type": "intervals", "intervals": [...]}`.
fn parse_intervals(value: &Value) -> Result<Vec<Interval>, QueryError> {
    let texts: Vec<&Value> = match value {
        Value::String(_) => vec![value],
        Value::Array(items) => items.iter().collect(),
        Value::Object(_) => {
            let fields = Fields::of(value, "org.apache.druid.query.spec.QuerySegmentSpec")?;
            match type_id(value, "type") {
                Some("intervals") => fields.array("intervals")?.iter().collect(),
                Some("segments") => {
                    return Err(QueryError::unsupported(
                        "segments query segment specs are not supported yet",
                    ))
                }
                _ => return Err(json::mismatch(fields.class(), value)),
            }
        }
        other => return Err(json::mismatch("QuerySegmentSpec", other)),
    };
    let mut intervals = texts
        .into_iter()
        .map(|text| {
            let text = json::scalar_string(text, "intervals")?;
            Interval::parse(&text)
                .ok_or_else(|| QueryError::invalid_query(format!("Invalid interval [{text}]")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(condense(&mut intervals))
}

/// Sorts intervals and merges the overlapping or abutting ones (Joda `condenseIntervals`).
fn condense(intervals: &mut [Interval]) -> Vec<Interval> {
    intervals.sort_by_key(|interval| (interval.start, interval.end));
    let mut condensed: Vec<Interval> = Vec::with_capacity(intervals.len());
    for interval in intervals
        .iter()
        .filter(|interval| interval.start < interval.end)
    {
        match condensed.last_mut() {
            Some(last) if interval.start <= last.end => last.end = last.end.max(interval.end),
            _ => condensed.push(*interval),
        }
    }
    condensed
}

/// Writes `value` with object keys sorted and no whitespace.
fn write_canonical(value: &Value, out: &mut String) {
    match value {
        Value::Object(object) => {
            let mut entries: Vec<(&String, &Value)> = object.iter().collect();
            entries.sort_by(|left, right| left.0.cmp(right.0));
            out.push('{');
            for (index, (key, item)) in entries.into_iter().enumerate() {
                if index > 0 {
                    out.push(',');
                }
                let _ = write!(out, "{}:", Value::String(key.clone()));
                write_canonical(item, out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (index, item) in items.iter().enumerate() {
                if index > 0 {
                    out.push(',');
                }
                write_canonical(item, out);
            }
            out.push(']');
        }
        scalar => {
            let _ = write!(out, "{scalar}");
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn parse(value: Value) -> Result<Query, QueryError> {
        Query::from_json(value, &Limits::default())
    }

    #[test]
    fn reads_common_fields() {
        let query = parse(json!({
            "queryType": "timeseries",
            "dataSource": {"type": "table", "name": "wikipedia"},
            "intervals": ["2015-09-12T12:00/2015-09-13", "2015-09-12/2015-09-12T12:00"],
            "granularity": "all",
            "context": {"queryId": "abc"}
        }))
        .unwrap();
        assert_eq!(query.datasource(), "wikipedia");
        assert_eq!(query.query_type(), "timeseries");
        assert_eq!(query.id(), Some("abc"));
        assert_eq!(
            query.intervals(),
            &[Interval::parse("2015-09-12/2015-09-13").unwrap()]
        );
    }

    #[test]
    fn cache_key_ignores_context_and_key_order() {
        let first = parse(json!({
            "queryType": "timeBoundary", "dataSource": "w", "context": {"queryId": "1"}
        }))
        .unwrap();
        let second = parse(json!({
            "dataSource": "w", "queryType": "timeBoundary", "context": {"queryId": "2"}
        }))
        .unwrap();
        assert_eq!(first.cache_key(), second.cache_key());
        assert_eq!(
            first.cache_key(),
            r#"{"dataSource":"w","queryType":"timeBoundary"}"#
        );
        assert_eq!(first.intervals(), &[Interval::ETERNITY]);
    }

    #[test]
    fn result_cache_key_keeps_context_that_may_change_answers() {
        let query = |context: Value| {
            parse(json!({"queryType": "timeBoundary", "dataSource": "w", "context": context}))
                .unwrap()
        };
        let plain = query(json!({"queryId": "1", "useCache": false, "timeout": 5}));
        assert_eq!(
            plain.result_cache_key(),
            r#"{"context":{},"dataSource":"w","queryType":"timeBoundary"}"#
        );
        assert_eq!(
            query(json!({"finalize": false})).result_cache_key(),
            r#"{"context":{"finalize":false},"dataSource":"w","queryType":"timeBoundary"}"#
        );
        assert!(!plain.may_read_lookups());
        let with_lookup = parse(json!({
            "queryType": "topN", "dataSource": "w", "intervals": "2015/2016",
            "granularity": "all", "threshold": 3, "metric": "n",
            "dimension": {"type": "lookup", "dimension": "c", "outputName": "o",
                          "lookup": {"type": "map", "map": {"a": "b"}}},
            "aggregations": [{"type": "count", "name": "n"}]
        }))
        .unwrap();
        assert!(with_lookup.may_read_lookups());
    }

    #[test]
    fn cache_key_keeps_flags_that_change_partials() {
        let query = |context: Value| {
            parse(json!({
                "queryType": "timeseries", "dataSource": "w", "intervals": "2015/2016",
                "granularity": "hour", "context": context
            }))
            .unwrap()
            .cache_key()
        };
        let zero_filled = query(json!({"queryId": "a"}));
        assert_eq!(zero_filled, query(json!({"skipEmptyBuckets": false})));
        let skipping = query(json!({"skipEmptyBuckets": true}));
        assert_ne!(zero_filled, skipping);
        assert_eq!(
            skipping,
            query(json!({"skipEmptyBuckets": "true", "grandTotal": true}))
        );
    }

    #[test]
    fn validates_required_fields() {
        let no_source = parse(json!({"queryType": "scan", "intervals": "2015/2016"})).unwrap_err();
        assert_eq!(
            no_source.error_message,
            "Invalid native query: dataSource can't be null"
        );
        let no_intervals = parse(json!({"queryType": "scan", "dataSource": "w"})).unwrap_err();
        assert_eq!(
            no_intervals.error_message,
            "Invalid native query: querySegmentSpec can't be null"
        );
        let metadata = parse(json!({"queryType": "dataSourceMetadata", "dataSource": "w"}));
        assert_eq!(metadata.unwrap().intervals(), &[Interval::ETERNITY]);
        let search = parse(json!({"queryType": "search", "dataSource": "w"})).unwrap_err();
        assert_eq!(search.status, 400, "search needs intervals");
        let window = parse(json!({"queryType": "windowOperator", "dataSource": "w"})).unwrap_err();
        assert_eq!(window.status, 501);
    }
}
