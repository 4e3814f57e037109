//! The segmentMetadata query spec (`docs/querying/segmentmetadataquery.md`): `toInclude`,
//! `merge`, `lenientAggregatorMerge` and `analysisTypes` (default `cardinality`, `interval`,
//! `minmax`; also `size`, `aggregators`, `timestampSpec`, `queryGranularity`, `rollup`).

use serde_json::Value;

use super::json::{scalar_string, type_id, Fields};
use crate::error::QueryError;

const TO_INCLUDE_CLASS: &str = "org.apache.druid.query.metadata.metadata.ColumnIncluderator";

/// Which columns a segmentMetadata query reports.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum ToInclude {
    All,
    None,
    List(Vec<String>),
}

impl ToInclude {
    pub(crate) fn includes(&self, column: &str) -> bool {
        match self {
            ToInclude::All => true,
            ToInclude::None => false,
            ToInclude::List(columns) => columns.iter().any(|known| known == column),
        }
    }
}

/// The requested analyses.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Analyses {
    pub(crate) cardinality: bool,
    pub(crate) interval: bool,
    pub(crate) minmax: bool,
    pub(crate) size: bool,
    pub(crate) aggregators: bool,
    pub(crate) timestamp_spec: bool,
    pub(crate) query_granularity: bool,
    pub(crate) rollup: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) struct SegmentMetadataSpec {
    pub(crate) to_include: ToInclude,
    pub(crate) merge: bool,
    /// `lenientAggregatorMerge`: merged aggregators keep every name (conflicts become null)
    /// instead of all becoming null when the segments disagree.
    pub(crate) lenient_aggregator_merge: bool,
    pub(crate) analyses: Analyses,
}

pub(crate) fn parse_segment_metadata(
    fields: &Fields<'_>,
) -> Result<SegmentMetadataSpec, QueryError> {
    let to_include = match fields.get("toInclude") {
        None | Some(Value::Null) => ToInclude::All,
        Some(value) => {
            let include = Fields::of(value, TO_INCLUDE_CLASS)?;
            match type_id(value, "type") {
                Some("all") => ToInclude::All,
                Some("none") => ToInclude::None,
                Some("list") => ToInclude::List(
                    include
                        .array("columns")?
                        .iter()
                        .map(|column| scalar_string(column, "columns"))
                        .collect::<Result<_, _>>()?,
                ),
                Some(unknown) => {
                    return Err(QueryError::unknown_type(
                        unknown,
                        TO_INCLUDE_CLASS,
                        &["all", "list", "none"],
                    ))
                }
                None => return Err(QueryError::missing_type("type", TO_INCLUDE_CLASS)),
            }
        }
    };
    let analyses = match fields.get("analysisTypes") {
        None | Some(Value::Null) => Analyses {
            cardinality: true,
            interval: true,
            minmax: true,
            ..Analyses::default()
        },
        Some(_) => {
            let mut analyses = Analyses::default();
            for name in fields.array("analysisTypes")? {
                match scalar_string(name, "analysisTypes")?
                    .to_ascii_lowercase()
                    .as_str()
                {
                    "cardinality" => analyses.cardinality = true,
                    "interval" => analyses.interval = true,
                    "minmax" => analyses.minmax = true,
                    "size" => analyses.size = true,
                    "aggregators" => analyses.aggregators = true,
                    "timestampspec" => analyses.timestamp_spec = true,
                    "querygranularity" => analyses.query_granularity = true,
                    "rollup" => analyses.rollup = true,
                    other => {
                        return Err(QueryError::invalid_query(format!(
                            "Unknown analysisType [{other}]"
                        )))
                    }
                }
            }
            analyses
        }
    };
    Ok(SegmentMetadataSpec {
        to_include,
        merge: fields.bool("merge")?.unwrap_or(false),
        lenient_aggregator_merge: fields.bool("lenientAggregatorMerge")?.unwrap_or(false),
        analyses,
    })
}
