//! The per-type parts of a native query: timeseries, topN, groupBy, scan and timeBoundary
//! (dataSourceMetadata has none; segmentMetadata's is in `metadata`).

use henge_segment::granularity::Granularity;
use serde_json::Value;

use super::aggregator::{name_expression_inputs, AggregatorSpec};
use super::dimension::{DimensionSpec, LimitSpec, TopNMetric};
use super::filter::FilterSpec;
use super::having::HavingSpec;
use super::json::Fields;
use super::metadata::SegmentMetadataSpec;
use super::post_aggregator::{parse_post_aggregators, PostAggSpec};
use super::search::SearchSpec;
use crate::error::QueryError;
use crate::parse::Limits;

/// Druid's `TopNQuery` per-segment floor on the threshold (`minTopNThreshold`).
pub(crate) const MIN_TOPN_THRESHOLD: usize = 1000;
/// Druid's default scan `batchSize`.
pub(crate) const DEFAULT_SCAN_BATCH_SIZE: usize = 20480;
/// The time column's name.
pub(crate) const TIME_COLUMN: &str = "__time";

/// What a query computes, by type.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum QueryKind {
    Timeseries(TimeseriesSpec),
    TopN(TopNSpec),
    GroupBy(GroupBySpec),
    Scan(ScanSpec),
    TimeBoundary(TimeBoundarySpec),
    /// The latest ingested event time; it runs like an unfiltered timeBoundary per segment.
    DataSourceMetadata,
    SegmentMetadata(SegmentMetadataSpec),
    Search(SearchSpec),
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) struct TimeseriesSpec {
    pub(crate) granularity: Granularity,
    pub(crate) filter: Option<FilterSpec>,
    pub(crate) aggregations: Vec<AggregatorSpec>,
    pub(crate) post_aggregations: Vec<PostAggSpec>,
    pub(crate) descending: bool,
    pub(crate) skip_empty_buckets: bool,
    /// Context `grandTotal`: append a row totalling every returned bucket.
    pub(crate) grand_total: bool,
    pub(crate) limit: Option<u64>,
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) struct TopNSpec {
    pub(crate) granularity: Granularity,
    pub(crate) filter: Option<FilterSpec>,
    pub(crate) aggregations: Vec<AggregatorSpec>,
    pub(crate) post_aggregations: Vec<PostAggSpec>,
    pub(crate) dimension: DimensionSpec,
    pub(crate) metric: TopNMetric,
    pub(crate) threshold: usize,
}

impl TopNSpec {
    /// How many entries each segment and each merge keeps: `max(threshold, 1000)`.
    pub(crate) fn partial_threshold(&self) -> usize {
        self.threshold.max(MIN_TOPN_THRESHOLD)
    }
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) struct GroupBySpec {
    pub(crate) granularity: Granularity,
    pub(crate) filter: Option<FilterSpec>,
    pub(crate) aggregations: Vec<AggregatorSpec>,
    pub(crate) post_aggregations: Vec<PostAggSpec>,
    pub(crate) dimensions: Vec<DimensionSpec>,
    pub(crate) limit_spec: LimitSpec,
    pub(crate) having: Option<HavingSpec>,
    /// `subtotalsSpec`: each entry lists the indices (into `dimensions`, ascending) of the
    /// dimensions one result set groups by.
    pub(crate) subtotals: Option<Vec<Vec<usize>>>,
}

impl GroupBySpec {
    /// The row signature's names: dimensions' output names, aggregators, post-aggregators.
    pub(crate) fn output_names(&self) -> impl Iterator<Item = &str> {
        self.dimensions
            .iter()
            .map(|dimension| dimension.output_name.as_str())
            .chain(self.aggregations.iter().map(|agg| agg.name.as_str()))
            .chain(self.post_aggregations.iter().map(|post| post.name.as_str()))
    }
}

/// Scan `resultFormat`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ResultFormat {
    List,
    CompactedList,
}

/// Scan `order` by `__time`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ScanOrder {
    None,
    Ascending,
    Descending,
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) struct ScanSpec {
    pub(crate) filter: Option<FilterSpec>,
    /// Requested columns; empty means every column of each segment.
    pub(crate) columns: Vec<String>,
    pub(crate) result_format: ResultFormat,
    pub(crate) limit: Option<u64>,
    pub(crate) offset: u64,
    pub(crate) order: ScanOrder,
    pub(crate) batch_size: usize,
}

impl ScanSpec {
    /// Rows a segment or a merge needs to keep: `offset + limit`.
    pub(crate) fn row_budget(&self) -> Option<u64> {
        self.limit.map(|limit| limit.saturating_add(self.offset))
    }
}

/// Which ends a timeBoundary query reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Bound {
    Both,
    MinTime,
    MaxTime,
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) struct TimeBoundarySpec {
    pub(crate) filter: Option<FilterSpec>,
    pub(crate) bound: Bound,
}

/// Parses the fields shared by aggregating queries.
struct Common {
    granularity: Granularity,
    filter: Option<FilterSpec>,
    aggregations: Vec<AggregatorSpec>,
    post_aggregations: Vec<PostAggSpec>,
}

impl Common {
    /// Aggregator then post-aggregator output names.
    fn metric_names(&self) -> impl Iterator<Item = &str> {
        self.aggregations
            .iter()
            .map(|agg| agg.name.as_str())
            .chain(self.post_aggregations.iter().map(|post| post.name.as_str()))
    }
}

fn parse_filter(fields: &Fields<'_>, limits: &Limits) -> Result<Option<FilterSpec>, QueryError> {
    fields
        .get("filter")
        .map(|filter| FilterSpec::parse(filter, limits))
        .transpose()
}

fn parse_common(fields: &Fields<'_>, limits: &Limits) -> Result<Common, QueryError> {
    let granularity = match fields.get("granularity") {
        None => return Err(QueryError::invalid_query("Must specify a granularity")),
        Some(value) => Granularity::from_json(value).map_err(|message| {
            if message.contains("unsupported") {
                QueryError::unsupported(message)
            } else {
                QueryError::invalid_query(message)
            }
        })?,
    };
    let specs = fields.array("aggregations")?;
    if specs.len() > limits.max_aggregators {
        return Err(QueryError::resource_limit(format!(
            "query has {} aggregators, more than the limit of {}",
            specs.len(),
            limits.max_aggregators
        )));
    }
    let mut aggregations = specs
        .iter()
        .map(|spec| AggregatorSpec::parse(spec, limits))
        .collect::<Result<Vec<_>, _>>()?;
    name_expression_inputs(&mut aggregations);
    let post_aggregations =
        parse_post_aggregators(fields.array("postAggregations")?, &aggregations, limits)?;
    Ok(Common {
        granularity,
        filter: parse_filter(fields, limits)?,
        aggregations,
        post_aggregations,
    })
}

/// Rejects duplicate output names the way Druid's `Queries.verifyAggregations` does.
fn check_output_names<'n>(names: impl Iterator<Item = &'n str>) -> Result<(), QueryError> {
    let mut seen = hashbrown::HashSet::new();
    for name in names {
        if !seen.insert(name) {
            return Err(QueryError::invalid_query(format!(
                "Duplicate output name[{name}]"
            )));
        }
    }
    Ok(())
}

pub(crate) fn parse_timeseries(
    fields: &Fields<'_>,
    limits: &Limits,
    context: &serde_json::Map<String, Value>,
) -> Result<TimeseriesSpec, QueryError> {
    let common = parse_common(fields, limits)?;
    check_output_names(common.metric_names())?;
    let skip_empty_buckets = context_flag(context, "skipEmptyBuckets")?;
    let grand_total = context_flag(context, "grandTotal")?;
    // Druid treats a zero limit as no limit.
    let limit = fields.u64("limit")?.filter(|limit| *limit != 0);
    Ok(TimeseriesSpec {
        granularity: common.granularity,
        filter: common.filter,
        aggregations: common.aggregations,
        post_aggregations: common.post_aggregations,
        descending: fields.bool("descending")?.unwrap_or(false),
        skip_empty_buckets,
        grand_total,
        limit,
    })
}

/// A boolean query-context flag (`true`, `false` or their strings), `false` when absent.
fn context_flag(context: &serde_json::Map<String, Value>, key: &str) -> Result<bool, QueryError> {
    match context.get(key) {
        None | Some(Value::Null) => Ok(false),
        Some(Value::Bool(flag)) => Ok(*flag),
        Some(Value::String(text)) if text.eq_ignore_ascii_case("true") => Ok(true),
        Some(Value::String(text)) if text.eq_ignore_ascii_case("false") => Ok(false),
        Some(other) => Err(QueryError::bad_context(format!(
            "Expected key [{key}] to be a Boolean, but got [{other}]"
        ))),
    }
}

pub(crate) fn parse_topn(fields: &Fields<'_>, limits: &Limits) -> Result<TopNSpec, QueryError> {
    let common = parse_common(fields, limits)?;
    let dimension = fields
        .get("dimension")
        .ok_or_else(|| QueryError::invalid_query("dimensionSpec can't be null"))
        .and_then(|spec| DimensionSpec::parse(spec, limits))?;
    let metric = fields
        .get("metric")
        .ok_or_else(|| QueryError::invalid_query("must specify a metric"))
        .and_then(TopNMetric::parse)?;
    let threshold = fields.u64("threshold")?.unwrap_or(0);
    if threshold == 0 {
        return Err(QueryError::invalid_query("Threshold cannot be equal to 0."));
    }
    if let Some(name) = metric.metric_name() {
        if !common.metric_names().any(|known| known == name) {
            return Err(QueryError::invalid_query(format!(
                "Must have an AggregatorFactory or PostAggregator for metric[{name}], gave[{:?}] and [{:?}]",
                common.aggregations.iter().map(|agg| agg.name.as_str()).collect::<Vec<_>>(),
                common.post_aggregations.iter().map(|post| post.name.as_str()).collect::<Vec<_>>()
            )));
        }
    }
    check_output_names(
        std::iter::once(dimension.output_name.as_str()).chain(common.metric_names()),
    )?;
    Ok(TopNSpec {
        granularity: common.granularity,
        filter: common.filter,
        aggregations: common.aggregations,
        post_aggregations: common.post_aggregations,
        dimension,
        metric,
        threshold: usize::try_from(threshold).unwrap_or(usize::MAX),
    })
}

pub(crate) fn parse_group_by(
    fields: &Fields<'_>,
    limits: &Limits,
) -> Result<GroupBySpec, QueryError> {
    let common = parse_common(fields, limits)?;
    let having = fields
        .get("having")
        .map(|having| HavingSpec::parse(having, limits))
        .transpose()?;
    let dimensions = fields
        .array("dimensions")?
        .iter()
        .map(|spec| DimensionSpec::parse(spec, limits))
        .collect::<Result<Vec<_>, _>>()?;
    let subtotals = match fields.get("subtotalsSpec") {
        None | Some(Value::Null) => None,
        Some(_) => Some(parse_subtotals(
            fields.array("subtotalsSpec")?,
            &dimensions,
            limits,
        )?),
    };
    check_output_names(
        dimensions
            .iter()
            .map(|dim| dim.output_name.as_str())
            .chain(common.metric_names()),
    )?;
    let limit_spec = fields
        .get("limitSpec")
        .map(LimitSpec::parse)
        .transpose()?
        .unwrap_or_default();
    for order_by in &limit_spec.columns {
        let known = dimensions
            .iter()
            .any(|dim| dim.output_name == order_by.column)
            || common.metric_names().any(|name| name == order_by.column);
        if !known {
            return Err(QueryError::invalid_query(format!(
                "Unknown column in order clause[{}]",
                order_by.column
            )));
        }
    }
    Ok(GroupBySpec {
        granularity: common.granularity,
        filter: common.filter,
        aggregations: common.aggregations,
        post_aggregations: common.post_aggregations,
        dimensions,
        limit_spec,
        having,
        subtotals,
    })
}

/// `subtotalsSpec`: lists of dimension output names, each a subset of the query's.
fn parse_subtotals(
    specs: &[Value],
    dimensions: &[DimensionSpec],
    limits: &Limits,
) -> Result<Vec<Vec<usize>>, QueryError> {
    limits.check_values("subtotalsSpec", specs.len())?;
    specs
        .iter()
        .map(|spec| {
            let names = match spec {
                Value::Array(names) => names,
                other => return Err(super::json::mismatch("java.util.List", other)),
            };
            let mut indices = Vec::with_capacity(names.len());
            for name in names {
                let index = name.as_str().and_then(|name| {
                    dimensions
                        .iter()
                        .position(|dimension| dimension.output_name == name)
                });
                match index {
                    Some(index) => indices.push(index),
                    None => {
                        return Err(QueryError::invalid_query(format!(
                            "Subtotal spec {spec} is either not a subset of top level dimensions."
                        )))
                    }
                }
            }
            indices.sort_unstable();
            indices.dedup();
            Ok(indices)
        })
        .collect()
}

pub(crate) fn parse_scan(fields: &Fields<'_>, limits: &Limits) -> Result<ScanSpec, QueryError> {
    if fields.bool("legacy")? == Some(true) {
        return Err(QueryError::unsupported(
            "legacy scan queries are not supported",
        ));
    }
    if !fields.array("orderBy")?.is_empty() {
        return Err(QueryError::unsupported("scan orderBy is not supported yet"));
    }
    let columns = fields
        .array("columns")?
        .iter()
        .map(|column| super::json::scalar_string(column, "columns"))
        .collect::<Result<Vec<_>, _>>()?;
    let result_format = match fields.string("resultFormat")?.as_deref() {
        None | Some("list") => ResultFormat::List,
        Some("compactedList") => ResultFormat::CompactedList,
        Some("valueVector") => {
            return Err(QueryError::unsupported(
                "scan resultFormat [valueVector] is not supported",
            ))
        }
        Some(other) => {
            return Err(QueryError::mismatched_input(format!(
                "Cannot deserialize value of type `ScanQuery$ResultFormat` from String \"{other}\": not one of the values accepted for Enum class: [list, compactedList, valueVector]"
            )))
        }
    };
    let order = match fields.string("order")?.map(|order| order.to_ascii_lowercase()) {
        None => ScanOrder::None,
        Some(order) if order == "none" => ScanOrder::None,
        Some(order) if order == "ascending" => ScanOrder::Ascending,
        Some(order) if order == "descending" => ScanOrder::Descending,
        Some(other) => {
            return Err(QueryError::mismatched_input(format!(
                "Cannot deserialize value of type `ScanQuery$Order` from String \"{other}\": not one of the values accepted for Enum class: [ascending, descending, none]"
            )))
        }
    };
    if order != ScanOrder::None
        && !columns.is_empty()
        && !columns.iter().any(|column| column == TIME_COLUMN)
    {
        return Err(QueryError::invalid_query(
            "The __time column must be selected if the results are time-ordered.",
        ));
    }
    let batch_size = match fields.u64("batchSize")? {
        None => DEFAULT_SCAN_BATCH_SIZE,
        Some(0) => {
            return Err(QueryError::invalid_query(
                "batchSize must be greater than 0",
            ))
        }
        Some(size) => usize::try_from(size).unwrap_or(usize::MAX),
    };
    // Druid treats a zero limit as no limit.
    let limit = fields.u64("limit")?.filter(|limit| *limit != 0);
    Ok(ScanSpec {
        filter: parse_filter(fields, limits)?,
        columns,
        result_format,
        limit,
        offset: fields.u64("offset")?.unwrap_or(0),
        order,
        batch_size,
    })
}

pub(crate) fn parse_time_boundary(
    fields: &Fields<'_>,
    limits: &Limits,
) -> Result<TimeBoundarySpec, QueryError> {
    let bound = match fields.string("bound")? {
        None => Bound::Both,
        Some(bound) if bound.eq_ignore_ascii_case("minTime") => Bound::MinTime,
        Some(bound) if bound.eq_ignore_ascii_case("maxTime") => Bound::MaxTime,
        Some(_) => Bound::Both,
    };
    Ok(TimeBoundarySpec {
        filter: parse_filter(fields, limits)?,
        bound,
    })
}
