//! The segmentMetadata query spec (`docs/querying/segmentmetadataquery.md`): `toInclude`,
//! `merge` and `analysisTypes` (default `cardinality`, `interval`, `minmax`; also `size`).
//! The analyses Henge has no segment metadata for (`aggregators`, `timestampSpec`,
//! `queryGranularity`, `rollup`) are a 501.

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
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Analyses {
    pub(crate) cardinality: bool,
    pub(crate) interval: bool,
    pub(crate) minmax: bool,
    pub(crate) size: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) struct SegmentMetadataSpec {
    pub(crate) to_include: ToInclude,
    pub(crate) merge: bool,
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
            size: false,
        },
        Some(_) => {
            let mut analyses = Analyses {
                cardinality: false,
                interval: false,
                minmax: false,
                size: false,
            };
            for name in fields.array("analysisTypes")? {
                match scalar_string(name, "analysisTypes")?
                    .to_ascii_lowercase()
                    .as_str()
                {
                    "cardinality" => analyses.cardinality = true,
                    "interval" => analyses.interval = true,
                    "minmax" => analyses.minmax = true,
                    "size" => analyses.size = true,
                    known @ ("aggregators" | "timestampspec" | "querygranularity" | "rollup") => {
                        return Err(QueryError::unsupported(format!(
                            "segmentMetadata analysisType [{known}] is not supported yet"
                        )))
                    }
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
        analyses,
    })
}
