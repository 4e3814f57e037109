//! [`PushSchema`]: the columns of a push-ingested datasource, discovered from the events, and
//! the validation of one push request against them.
//!
//! Typing: JSON strings, booleans, arrays and objects make a STRING column (an array is a
//! multi-value row, sorted as `SORTED_ARRAY`; an object is its JSON text), integers a LONG column and other numbers a DOUBLE column.
//! A new field takes the widest type among its values in the request that introduces it
//! (LONG < DOUBLE < STRING), and keeps that type from then on. Later values must fit: any
//! value fits a STRING column (numbers keep their JSON text); a LONG column takes integers
//! and integer strings; a DOUBLE column takes numbers and numeric strings. A value that does
//! not fit makes its line bad, and a request with a bad line is rejected whole.
//!
//! Metrics set with [`crate::RealtimeIndex::set_metrics`] come first in the column list; their
//! names and input fields are not discovered as dimensions, and their inputs are converted
//! leniently (a value that does not convert is null).

use henge_segment::{ColumnSpec, ColumnType, ValueRef};
use serde_json::value::RawValue;

use crate::parse::{FieldIndex, Scalar};
use crate::spec::{MetricKind, MetricSpec, TimestampFormat};

/// The event field holding the timestamp (ISO-8601 or epoch milliseconds).
pub const TIMESTAMP_FIELD: &str = "timestamp";

/// Reserved for the time column; such an event field is ignored.
const TIME_COLUMN: &str = "__time";

/// One event of a request: its timestamp and field values by slot.
pub(crate) struct Event<'a> {
    pub(crate) time: i64,
    pub(crate) slots: Vec<Option<&'a RawValue>>,
}

/// A validated request, ready to be applied.
pub(crate) struct Validated<'a> {
    pub(crate) events: Vec<Event<'a>>,
    /// Columns to add first: `(slot, type)` in first-seen order.
    new_columns: Vec<(usize, ColumnType)>,
}

/// The columns of one datasource (all dimensions).
pub(crate) struct PushSchema {
    fields: FieldIndex,
    timestamp_slot: usize,
    columns: Vec<ColumnSpec>,
    /// Input slot of each column.
    column_slots: Vec<usize>,
    /// Column of each slot, once the field has a type.
    slot_columns: Vec<Option<usize>>,
    /// The metric of each metric column (the first columns).
    metrics: Vec<MetricKind>,
    /// Input slots of the metrics: not dimensions.
    metric_slots: Vec<usize>,
}

impl PushSchema {
    pub(crate) fn new() -> PushSchema {
        let mut fields = FieldIndex::new(true);
        let timestamp_slot = fields.slot(TIMESTAMP_FIELD);
        fields.exclude(TIME_COLUMN);
        PushSchema {
            fields,
            timestamp_slot,
            columns: Vec::new(),
            column_slots: Vec::new(),
            slot_columns: Vec::new(),
            metrics: Vec::new(),
            metric_slots: Vec::new(),
        }
    }

    /// A schema whose first columns are `metrics`.
    pub(crate) fn with_metrics(metrics: &[MetricSpec]) -> PushSchema {
        let mut schema = PushSchema::new();
        for metric in metrics {
            schema.fields.exclude(&metric.name);
            // `count` reads no field: a slot no event fills.
            let slot = match &metric.field_name {
                Some(field) => {
                    let slot = schema.fields.slot(field);
                    schema.metric_slots.push(slot);
                    slot
                }
                None => usize::MAX,
            };
            schema.columns.push(ColumnSpec::metric(
                metric.name.clone(),
                metric.kind.column_type(),
            ));
            schema.column_slots.push(slot);
            schema.metrics.push(metric.kind);
        }
        schema
    }

    /// The metric of column `column`, if it is a metric column.
    pub(crate) fn metric(&self, column: usize) -> Option<MetricKind> {
        self.metrics.get(column).copied()
    }

    pub(crate) fn columns(&self) -> &[ColumnSpec] {
        &self.columns
    }

    /// Parses and checks every non-blank line of `body`. Nothing changes in the schema (but
    /// for field-name slots) until [`PushSchema::apply`]. On failure returns one message per
    /// bad line (at most `max_errors`, then a count of the rest).
    pub(crate) fn validate<'a>(
        &mut self,
        body: &'a str,
        max_errors: usize,
    ) -> Result<Validated<'a>, Vec<String>> {
        let mut events = Vec::new();
        let mut errors = Vec::new();
        let mut bad_lines = 0usize;
        // The type each new field gets: the widest among its values in this request.
        let mut new_types: Vec<(usize, ColumnType)> = Vec::new();
        for (index, line) in body.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            match self.check_line(line, &mut new_types) {
                Ok(event) => events.push(event),
                Err(message) => {
                    bad_lines += 1;
                    if errors.len() < max_errors {
                        errors.push(format!("line {}: {message}", index + 1));
                    }
                }
            }
        }
        if bad_lines > errors.len() {
            errors.push(format!(
                "... and {} more bad lines",
                bad_lines - errors.len()
            ));
        }
        if errors.is_empty() {
            Ok(Validated {
                events,
                new_columns: new_types,
            })
        } else {
            Err(errors)
        }
    }

    fn check_line<'a>(
        &mut self,
        line: &'a str,
        new_types: &mut Vec<(usize, ColumnType)>,
    ) -> Result<Event<'a>, String> {
        let mut slots = Vec::new();
        if self.fields.parse(line, &mut slots).is_err() {
            return Err("not a JSON object".to_string());
        }
        let timestamp = Scalar::of(slots[self.timestamp_slot]);
        let time = timestamp
            .to_timestamp(TimestampFormat::Auto)
            .ok_or_else(|| format!("Timestamp[{}] is unparseable", timestamp.display()))?;
        for (slot, raw) in slots.iter().enumerate() {
            let scalar = Scalar::of(*raw);
            if slot == self.timestamp_slot || scalar.is_null() || self.metric_slots.contains(&slot)
            {
                continue;
            }
            let seen = type_of(&scalar);
            match self.slot_columns.get(slot).copied().flatten() {
                Some(column) => check_fits(&self.columns[column], &scalar)?,
                None => match new_types.iter_mut().find(|(new_slot, _)| *new_slot == slot) {
                    Some((_, column_type)) => *column_type = widest(*column_type, seen),
                    None => new_types.push((slot, seen)),
                },
            }
        }
        Ok(Event { time, slots })
    }

    /// Adds the columns a validated request introduces.
    pub(crate) fn apply(&mut self, validated: &Validated<'_>) {
        for &(slot, column_type) in &validated.new_columns {
            let name = self
                .fields
                .name_of(slot)
                .expect("every slot of a parsed event has a field name")
                .to_string();
            if self.slot_columns.len() <= slot {
                self.slot_columns.resize(slot + 1, None);
            }
            self.slot_columns[slot] = Some(self.columns.len());
            self.columns.push(ColumnSpec::dimension(name, column_type));
            self.column_slots.push(slot);
        }
    }

    /// The value of column `column` in `event`.
    pub(crate) fn value<'e>(&self, event: &'e Event<'_>, column: usize) -> Scalar<'e> {
        Scalar::of(
            event
                .slots
                .get(self.column_slots[column])
                .copied()
                .flatten(),
        )
    }
}

/// A non-null scalar's value for a column of type `column_type` (already validated).
pub(crate) fn to_value_ref<'s>(scalar: &'s Scalar<'_>, column_type: ColumnType) -> ValueRef<'s> {
    match (scalar, column_type) {
        (Scalar::Null, _) => ValueRef::Null,
        (Scalar::Number(text), ColumnType::Long) => {
            text.parse().map_or(ValueRef::Null, ValueRef::Long)
        }
        (Scalar::Number(text), ColumnType::Double) => {
            text.parse().map_or(ValueRef::Null, ValueRef::Double)
        }
        // Strings into numeric columns are coerced by the segment builder.
        (other, _) => other.as_str().map_or(ValueRef::Null, ValueRef::Str),
    }
}

fn type_of(scalar: &Scalar<'_>) -> ColumnType {
    match scalar {
        Scalar::Number(text) if text.parse::<i64>().is_ok() => ColumnType::Long,
        Scalar::Number(_) => ColumnType::Double,
        _ => ColumnType::String,
    }
}

fn widest(left: ColumnType, right: ColumnType) -> ColumnType {
    let rank = |column_type| match column_type {
        ColumnType::Long => 0,
        ColumnType::Double => 1,
        ColumnType::String => 2,
        // Pushed events never create sketch columns.
        ColumnType::Complex(_) => 3,
    };
    if rank(left) >= rank(right) {
        left
    } else {
        right
    }
}

fn check_fits(column: &ColumnSpec, scalar: &Scalar<'_>) -> Result<(), String> {
    let fits = match (column.column_type, scalar) {
        (ColumnType::String, _) => true,
        (ColumnType::Long, Scalar::Number(text)) => text.parse::<i64>().is_ok(),
        (ColumnType::Long, Scalar::Str(text)) => text.trim().parse::<i64>().is_ok(),
        (ColumnType::Double, Scalar::Number(_)) => true,
        (ColumnType::Double, Scalar::Str(text)) => text.trim().parse::<f64>().is_ok(),
        _ => false,
    };
    if fits {
        Ok(())
    } else {
        Err(format!(
            "value [{}] of field [{}] does not fit its column type {}",
            scalar.display(),
            column.name,
            column.column_type.name()
        ))
    }
}
