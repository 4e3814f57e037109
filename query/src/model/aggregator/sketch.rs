//! The approximate aggregators (`docs/querying/aggregations.md#approximate-aggregations`,
//! `development/extensions-core/datasketches-{hll,theta,quantiles}.md`), parsed into one
//! [`SketchAgg`]: which operation, which sketch ([`SketchSpec`]), and how it finalizes.
//!
//! - `cardinality` (`fields`, `byRow`, `round`) and `hyperUnique` (`fieldName`, `round`):
//!   an HLL of 2048 registers ([`SketchSpec::HYPER_UNIQUE`]), finalized to a double (a long
//!   when `round`);
//! - `HLLSketchBuild` / `HLLSketchMerge` (`lgK` 12, `tgtHllType` `HLL_4`, `round` false,
//!   `shouldFinalize` true): finalized to a double (a long when `round`);
//! - `thetaSketch` (`size` 16384, `isInputThetaSketch`, `shouldFinalize` true): a double;
//! - `quantilesDoublesSketch` (`k` 128, `shouldFinalize` true): the count of values (a long).
//!
//! Whether a sketch is built from raw values or merged from ingested sketches is decided by
//! the column the aggregator reads, so `HLLSketchBuild` over a sketch column merges and
//! `HLLSketchMerge` over a string column builds.

use henge_segment::sketch::{HllTarget, SketchSpec};
use henge_segment::ColumnType;
use serde_json::Value;

use super::{AggKind, AggregatorSpec, DEFAULT_MAX_STRING_BYTES};
use crate::error::QueryError;
use crate::model::json::Fields;
use crate::model::spec::TIME_COLUMN;

/// Which approximate aggregator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum SketchOp {
    /// `cardinality`: `by_row` hashes the tuple of the fields' values instead of each value.
    Cardinality {
        by_row: bool,
    },
    HyperUnique,
    Hll,
    Theta,
    Quantiles,
}

/// An approximate aggregator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct SketchAgg {
    pub(crate) op: SketchOp,
    pub(crate) spec: SketchSpec,
    /// Finalize the estimate to a long (`round`).
    pub(crate) round: bool,
    /// `shouldFinalize`: false keeps the sketch itself as the finalized value.
    pub(crate) should_finalize: bool,
}

impl SketchAgg {
    /// Whether this aggregator reads a complex column of `column_type` as sketches to merge.
    pub(crate) fn merges(&self, column_type: ColumnType) -> bool {
        match column_type {
            ColumnType::Complex(kind) => {
                henge_segment::sketch::SketchFamily::of(kind) == self.spec.family()
            }
            _ => false,
        }
    }
}

/// Parses a sketch aggregator; `None` when `kind` is not one.
pub(super) fn parse(kind: &str, fields: &Fields<'_>) -> Result<Option<AggregatorSpec>, QueryError> {
    let round = fields.bool("round")?.unwrap_or(false);
    let should_finalize = fields.bool("shouldFinalize")?.unwrap_or(true);
    let (op, spec) = match kind {
        "cardinality" => (
            SketchOp::Cardinality {
                by_row: fields.bool("byRow")?.unwrap_or(false),
            },
            SketchSpec::HYPER_UNIQUE,
        ),
        "hyperUnique" => (SketchOp::HyperUnique, SketchSpec::HYPER_UNIQUE),
        "HLLSketchBuild" | "HLLSketchMerge" => (SketchOp::Hll, hll_spec(fields)?),
        "thetaSketch" => {
            let size = fields.u64("size")?.unwrap_or(16384);
            let spec = SketchSpec::theta_of_size(size)
                .map_err(|error| QueryError::invalid_query(error.0))?;
            (SketchOp::Theta, spec)
        }
        "quantilesDoublesSketch" => {
            let k = fields.u64("k")?.unwrap_or(128);
            // Druid's DoublesSketch takes powers of 2 from 2 to 32768.
            if !k.is_power_of_two() || !(8..=32768).contains(&k) {
                return Err(QueryError::invalid_query(format!(
                    "k must be a power of 2 from 8 to 32768, got {k}"
                )));
            }
            (SketchOp::Quantiles, SketchSpec::Quantiles { k: k as u16 })
        }
        _ => return Ok(None),
    };
    let name = fields.required_string("name", "Must have a valid, non-null aggregator name")?;
    let (field, columns) = match op {
        SketchOp::Cardinality { .. } => (None, cardinality_fields(fields)?),
        _ => (
            Some(fields.required_string("fieldName", "Must have a valid, non-null fieldName")?),
            Vec::new(),
        ),
    };
    Ok(Some(AggregatorSpec {
        name,
        kind: AggKind::Sketch(SketchAgg {
            op,
            spec,
            round,
            // `cardinality` and `hyperUnique` always finalize.
            should_finalize: should_finalize
                || matches!(op, SketchOp::Cardinality { .. } | SketchOp::HyperUnique),
        }),
        field,
        time_column: TIME_COLUMN.to_owned(),
        max_string_bytes: DEFAULT_MAX_STRING_BYTES,
        aggregate_multiple_values: true,
        expression: None,
        filter: None,
        fields: columns,
    }))
}

fn hll_spec(fields: &Fields<'_>) -> Result<SketchSpec, QueryError> {
    let lg_k = fields.u64("lgK")?.unwrap_or(12);
    if !(4..=21).contains(&lg_k) {
        return Err(QueryError::invalid_query(format!(
            "lgK must be in [4, 21], got {lg_k}"
        )));
    }
    let target = match fields.string("tgtHllType")? {
        None => HllTarget::Hll4,
        Some(name) => HllTarget::parse(&name).ok_or_else(|| {
            QueryError::invalid_query(format!(
                "tgtHllType must be HLL_4, HLL_6 or HLL_8, got {name}"
            ))
        })?,
    };
    Ok(SketchSpec::Hll {
        lg_k: lg_k as u8,
        target,
    })
}

/// `cardinality.fields`: column names, or `default` dimension specs naming a column.
fn cardinality_fields(fields: &Fields<'_>) -> Result<Vec<String>, QueryError> {
    let items = fields.array("fields")?;
    if items.is_empty() {
        return Err(QueryError::invalid_query(
            "cardinality needs a non-empty list of fields",
        ));
    }
    items
        .iter()
        .map(|item| match item {
            Value::String(name) => Ok(name.clone()),
            Value::Object(spec)
                if spec
                    .get("type")
                    .and_then(Value::as_str)
                    .unwrap_or("default")
                    == "default" =>
            {
                spec.get("dimension")
                    .and_then(Value::as_str)
                    .map(str::to_owned)
                    .ok_or_else(|| QueryError::invalid_query("dimension can not be null"))
            }
            _ => Err(QueryError::unsupported(
                "cardinality fields other than column names and default dimension specs \
                 are not supported yet",
            )),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::parse::Limits;

    fn parse_one(value: Value) -> Result<AggregatorSpec, QueryError> {
        AggregatorSpec::parse(&value, &Limits::default())
    }

    #[test]
    fn parses_sketch_aggregators_with_druid_defaults() {
        let hll =
            parse_one(json!({"type": "HLLSketchBuild", "name": "u", "fieldName": "user"})).unwrap();
        assert_eq!(
            hll.kind,
            AggKind::Sketch(SketchAgg {
                op: SketchOp::Hll,
                spec: SketchSpec::HLL_DEFAULT,
                round: false,
                should_finalize: true,
            })
        );
        let theta = parse_one(
            json!({"type": "thetaSketch", "name": "t", "fieldName": "user",
            "size": 1024, "shouldFinalize": false}),
        )
        .unwrap();
        let AggKind::Sketch(theta) = theta.kind else {
            panic!("theta")
        };
        assert_eq!(theta.spec, SketchSpec::Theta { lg_k: 10 });
        assert!(!theta.should_finalize);
        let cardinality = parse_one(json!({"type": "cardinality", "name": "c",
            "fields": ["page", {"type": "default", "dimension": "user"}], "byRow": true}))
        .unwrap();
        assert_eq!(cardinality.fields, ["page", "user"]);
        assert_eq!(cardinality.field, None);
    }

    #[test]
    fn rejects_bad_sketch_parameters() {
        let bad_lg_k =
            parse_one(json!({"type": "HLLSketchMerge", "name": "u", "fieldName": "x", "lgK": 30}));
        assert_eq!(bad_lg_k.unwrap_err().status, 400);
        let bad_size =
            parse_one(json!({"type": "thetaSketch", "name": "t", "fieldName": "x", "size": 1000}));
        assert_eq!(bad_size.unwrap_err().status, 400);
        let no_fields = parse_one(json!({"type": "cardinality", "name": "c", "fields": []}));
        assert_eq!(no_fields.unwrap_err().status, 400);
        let bad_type = parse_one(
            json!({"type": "HLLSketchBuild", "name": "u", "fieldName": "x", "tgtHllType": "HLL_5"}),
        );
        assert_eq!(bad_type.unwrap_err().status, 400);
    }
}
