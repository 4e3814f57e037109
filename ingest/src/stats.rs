//! Row counters and saved parse exceptions of an ingestion, and Druid's task report
//! (`docs/ingestion/tasks.md#task-reports`, the `ingestionStatsAndErrors` report).

use std::collections::VecDeque;
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{json, Value};

/// Druid's `rowStats` counters for the `buildSegments` phase, plus the most recent parse
/// exceptions.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RowStats {
    /// Rows ingested without any parse error.
    pub processed: u64,
    /// Uncompressed input bytes read, including rows that were not ingested.
    pub processed_bytes: u64,
    /// Rows ingested although a column value could not be parsed (it became null).
    pub processed_with_error: u64,
    /// Rows dropped because their timestamp is outside `granularitySpec.intervals`.
    pub thrown_away: u64,
    /// Rows dropped because they could not be parsed (bad JSON, bad or missing timestamp).
    pub unparseable: u64,
    /// The most recent parse exceptions, oldest first (at most `maxSavedParseExceptions`).
    pub unparseable_events: VecDeque<ParseExceptionReport>,
}

/// One saved parse exception, in Druid's `ParseExceptionReport` shape.
#[derive(Clone, Debug, PartialEq)]
pub struct ParseExceptionReport {
    /// The offending input (the JSON line, possibly truncated).
    pub input: String,
    /// Whether the row was dropped (`unparseable`) or kept with nulls (`processedWithError`).
    pub error_type: ParseErrorType,
    pub message: String,
    pub time_ms: i64,
}

/// What happened to a row with a parse exception.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParseErrorType {
    Unparseable,
    ProcessedWithError,
}

impl ParseErrorType {
    fn druid_name(self) -> &'static str {
        match self {
            ParseErrorType::Unparseable => "unparseable",
            ParseErrorType::ProcessedWithError => "processedWithError",
        }
    }
}

/// Druid's `ingestionState` values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IngestionState {
    NotStarted,
    BuildSegments,
    Completed,
}

impl IngestionState {
    pub fn druid_name(self) -> &'static str {
        match self {
            IngestionState::NotStarted => "NOT_STARTED",
            IngestionState::BuildSegments => "BUILD_SEGMENTS",
            IngestionState::Completed => "COMPLETED",
        }
    }
}

/// Longest input kept in a saved parse exception.
const MAX_SAVED_INPUT_CHARS: usize = 1_000;

impl RowStats {
    /// Total parse exceptions, the number compared with `maxParseExceptions`.
    pub fn parse_exceptions(&self) -> u64 {
        self.unparseable + self.processed_with_error
    }

    /// Counts a parse exception and saves it, keeping at most `max_saved`.
    pub(crate) fn record(
        &mut self,
        error_type: ParseErrorType,
        input: &str,
        message: String,
        max_saved: usize,
    ) {
        match error_type {
            ParseErrorType::Unparseable => self.unparseable += 1,
            ParseErrorType::ProcessedWithError => self.processed_with_error += 1,
        }
        if max_saved == 0 {
            return;
        }
        if self.unparseable_events.len() == max_saved {
            self.unparseable_events.pop_front();
        }
        self.unparseable_events.push_back(ParseExceptionReport {
            input: truncate_chars(input, MAX_SAVED_INPUT_CHARS).to_string(),
            error_type,
            message,
            time_ms: now_ms(),
        });
    }

    /// The counters as Druid's `rowStats.buildSegments` object.
    pub fn to_druid_row_stats(&self) -> Value {
        json!({
            "processed": self.processed,
            "processedBytes": self.processed_bytes,
            "processedWithError": self.processed_with_error,
            "thrownAway": self.thrown_away,
            "unparseable": self.unparseable,
        })
    }

    /// Druid's completion report (`GET /druid/indexer/v1/task/{id}/reports`):
    /// `{"ingestionStatsAndErrors": {"type", "taskId", "payload": {...}}}`. `error_msg` is
    /// `null` for a successful task.
    pub fn to_druid_report(
        &self,
        task_id: &str,
        ingestion_state: IngestionState,
        error_msg: Option<&str>,
    ) -> Value {
        let unparseable_events = if self.unparseable_events.is_empty() {
            json!({})
        } else {
            let events: Vec<Value> = self
                .unparseable_events
                .iter()
                .map(|event| {
                    json!({
                        "input": event.input,
                        "errorType": event.error_type.druid_name(),
                        "details": [event.message],
                        "timeOfExceptionMillis": event.time_ms,
                    })
                })
                .collect();
            json!({ "buildSegments": events })
        };
        let zero = RowStats::default().to_druid_row_stats();
        json!({
            "ingestionStatsAndErrors": {
                "type": "ingestionStatsAndErrors",
                "taskId": task_id,
                "payload": {
                    "ingestionState": ingestion_state.druid_name(),
                    "unparseableEvents": unparseable_events,
                    "rowStats": {
                        "determinePartitions": zero,
                        "buildSegments": self.to_druid_row_stats(),
                    },
                    "errorMsg": error_msg,
                    "segmentAvailabilityConfirmed": false,
                    "segmentAvailabilityWaitTimeMs": 0,
                }
            }
        })
    }
}

/// `text` cut to at most `max_chars` characters.
pub(crate) fn truncate_chars(text: &str, max_chars: usize) -> &str {
    match text.char_indices().nth(max_chars) {
        Some((byte_index, _)) => &text[..byte_index],
        None => text,
    }
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| {
            i64::try_from(elapsed.as_millis()).unwrap_or(i64::MAX)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_has_druid_shape() {
        let mut stats = RowStats {
            processed: 3,
            processed_bytes: 120,
            ..RowStats::default()
        };
        stats.record(
            ParseErrorType::Unparseable,
            "{bad",
            "Unable to parse row [{bad]".into(),
            1,
        );
        stats.record(ParseErrorType::Unparseable, "x", "second".into(), 1);
        let report = stats.to_druid_report("task-1", IngestionState::Completed, None);
        let payload = &report["ingestionStatsAndErrors"]["payload"];
        assert_eq!(report["ingestionStatsAndErrors"]["taskId"], "task-1");
        assert_eq!(payload["ingestionState"], "COMPLETED");
        assert_eq!(payload["rowStats"]["buildSegments"]["processed"], 3);
        assert_eq!(payload["rowStats"]["buildSegments"]["unparseable"], 2);
        assert_eq!(payload["rowStats"]["determinePartitions"]["processed"], 0);
        assert_eq!(payload["errorMsg"], Value::Null);
        // Only the most recent exception is kept with max_saved = 1.
        let events = payload["unparseableEvents"]["buildSegments"]
            .as_array()
            .unwrap();
        assert_eq!(events.len(), 1);
        assert_eq!(events[0]["details"][0], "second");
        assert_eq!(events[0]["errorType"], "unparseable");
    }

    #[test]
    fn truncates_on_char_boundaries() {
        assert_eq!(truncate_chars("héllo", 2), "hé");
        assert_eq!(truncate_chars("hi", 5), "hi");
    }
}
