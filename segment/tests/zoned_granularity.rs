//! Period granularities in time zones and from origins, and duration granularities, against
//! the examples of Druid's `docs/querying/granularities.md` and hand-computed buckets.

use henge_segment::granularity::Granularity;
use henge_segment::time::parse_timestamp;
use serde_json::{json, Value};

fn granularity(spec: Value) -> Granularity {
    Granularity::from_json(&spec).unwrap()
}

fn ts(text: &str) -> i64 {
    parse_timestamp(text).unwrap()
}

/// The printed start of the bucket holding `instant`, and of the bucket after it.
fn bucket(granularity: &Granularity, instant: &str) -> (String, String) {
    let start = granularity.bucket_start(ts(instant));
    let next = granularity.next_bucket_start(start);
    (
        granularity.format_timestamp(start),
        granularity.format_timestamp(next),
    )
}

fn starts(granularity: &Granularity, instants: &[&str]) -> Vec<String> {
    instants
        .iter()
        .map(|instant| bucket(granularity, instant).0)
        .collect()
}

/// The rows of the docs' example dataset.
const DOC_ROWS: [&str; 4] = [
    "2013-08-31T01:02:33Z",
    "2013-09-01T01:02:33Z",
    "2013-09-02T23:32:45Z",
    "2013-09-03T03:32:45Z",
];

#[test]
fn docs_example_day_in_los_angeles() {
    let day =
        granularity(json!({"type": "period", "period": "P1D", "timeZone": "America/Los_Angeles"}));
    assert_eq!(
        starts(&day, &DOC_ROWS),
        [
            "2013-08-30T00:00:00.000-07:00",
            "2013-08-31T00:00:00.000-07:00",
            "2013-09-02T00:00:00.000-07:00",
            "2013-09-02T00:00:00.000-07:00",
        ]
    );
}

#[test]
fn docs_example_day_from_an_origin() {
    let day = granularity(json!({"type": "period", "period": "P1D",
        "timeZone": "America/Los_Angeles", "origin": "1970-01-01T20:30:00-08:00"}));
    assert_eq!(
        starts(&day, &DOC_ROWS),
        [
            "2013-08-29T20:30:00.000-07:00",
            "2013-08-30T20:30:00.000-07:00",
            "2013-09-01T20:30:00.000-07:00",
            "2013-09-02T20:30:00.000-07:00",
        ]
    );
}

#[test]
fn docs_example_durations() {
    let day = granularity(json!({"type": "duration", "duration": 86_400_000}));
    assert_eq!(
        day,
        Granularity::Day,
        "a plain day duration is the named granularity"
    );
    let shifted = granularity(json!({"type": "duration", "duration": 86_400_000,
        "origin": "2012-01-01T00:30:00Z"}));
    assert_eq!(
        starts(&shifted, &DOC_ROWS),
        [
            "2013-08-31T00:30:00.000Z",
            "2013-09-01T00:30:00.000Z",
            "2013-09-02T00:30:00.000Z",
            "2013-09-03T00:30:00.000Z",
        ]
    );
    let every_90_minutes = granularity(json!({"type": "duration", "duration": 5_400_000}));
    assert_eq!(
        bucket(&every_90_minutes, "2015-09-12T00:46:58.771Z"),
        (
            "2015-09-12T00:00:00.000Z".to_owned(),
            "2015-09-12T01:30:00.000Z".to_owned()
        )
    );
}

#[test]
fn quarters_from_february() {
    let quarter = granularity(json!({"type": "period", "period": "P3M",
        "timeZone": "America/Los_Angeles", "origin": "2012-02-01T00:00:00-08:00"}));
    assert_eq!(
        bucket(&quarter, "2013-09-01T01:02:33Z"),
        (
            "2013-08-01T00:00:00.000-07:00".to_owned(),
            "2013-11-01T00:00:00.000-07:00".to_owned()
        )
    );
    // Before the origin, buckets still floor.
    assert_eq!(
        bucket(&quarter, "2011-12-15T00:00:00Z").0,
        "2011-11-01T00:00:00.000-07:00"
    );
}

#[test]
fn multiples_align_from_local_1970() {
    // P2D: even days since local 1970-01-01. 2015-09-11 is day 16,689, so pairs start on
    // 2015-09-10 (day 16,688) and 2015-09-12.
    let two_days =
        granularity(json!({"type": "period", "period": "P2D", "timeZone": "America/Los_Angeles"}));
    assert_eq!(
        bucket(&two_days, "2015-09-12T00:46:58.771Z"),
        (
            "2015-09-10T00:00:00.000-07:00".to_owned(),
            "2015-09-12T00:00:00.000-07:00".to_owned()
        )
    );
    // PT2H: the origin is 1970-01-01T08:00Z (local midnight), so buckets start on even UTC
    // hours, printed in Pacific time.
    let two_hours =
        granularity(json!({"type": "period", "period": "PT2H", "timeZone": "America/Los_Angeles"}));
    assert_eq!(
        bucket(&two_hours, "2015-09-12T00:46:58.771Z"),
        (
            "2015-09-11T17:00:00.000-07:00".to_owned(),
            "2015-09-11T19:00:00.000-07:00".to_owned()
        )
    );
}

#[test]
fn weeks_start_on_local_monday_and_hours_follow_half_hour_zones() {
    let week =
        granularity(json!({"type": "period", "period": "P1W", "timeZone": "America/Los_Angeles"}));
    // 2015-09-11 17:46 in Los Angeles is a Friday.
    assert_eq!(
        bucket(&week, "2015-09-12T00:46:58.771Z").0,
        "2015-09-07T00:00:00.000-07:00"
    );
    let hour = granularity(json!({"type": "period", "period": "PT1H", "timeZone": "Asia/Kolkata"}));
    assert_eq!(
        bucket(&hour, "2015-09-12T00:46:58.771Z"),
        (
            "2015-09-12T06:00:00.000+05:30".to_owned(),
            "2015-09-12T07:00:00.000+05:30".to_owned()
        )
    );
    let fixed = granularity(json!({"type": "period", "period": "P1D", "timeZone": "+05:30"}));
    assert_eq!(
        bucket(&fixed, "2015-09-11T20:00:00Z").0,
        "2015-09-12T00:00:00.000+05:30"
    );
}

#[test]
fn days_follow_daylight_saving() {
    let day =
        granularity(json!({"type": "period", "period": "P1D", "timeZone": "America/Los_Angeles"}));
    // 2015-11-01 lasts 25 hours in Los Angeles; 2015-03-08 lasts 23.
    let fall = day.bucket_interval(ts("2015-11-01T12:00:00Z"));
    assert_eq!(fall.start, ts("2015-11-01T07:00:00Z"));
    assert_eq!(fall.end, ts("2015-11-02T08:00:00Z"));
    let spring = day.bucket_interval(ts("2015-03-08T12:00:00Z"));
    assert_eq!(spring.start, ts("2015-03-08T08:00:00Z"));
    assert_eq!(spring.end, ts("2015-03-09T07:00:00Z"));
    assert_eq!(
        day.format_timestamp(fall.end),
        "2015-11-02T00:00:00.000-08:00"
    );
}

#[test]
fn compound_periods() {
    // Fixed zone, fixed length: aligned on 90-minute steps from the epoch.
    let compound = granularity(json!({"type": "period", "period": "PT1H30M"}));
    assert_eq!(
        bucket(&compound, "2015-09-12T00:46:58.771Z"),
        (
            "2015-09-12T00:00:00.000Z".to_owned(),
            "2015-09-12T01:30:00.000Z".to_owned()
        )
    );
    // Calendar compound: stepped from the origin: 01-01, 02-02, 03-03, 04-04 ...
    let month_and_day = granularity(json!({"type": "period", "period": "P1M1D"}));
    assert_eq!(
        bucket(&month_and_day, "1970-03-05T00:00:00Z"),
        (
            "1970-03-03T00:00:00.000Z".to_owned(),
            "1970-04-04T00:00:00.000Z".to_owned()
        )
    );
}

#[test]
fn standard_periods_stay_named_and_others_serialize_as_objects() {
    assert_eq!(
        granularity(json!({"type": "period", "period": "P1D", "timeZone": "UTC"})),
        Granularity::Day
    );
    let zoned =
        granularity(json!({"type": "period", "period": "P2D", "timeZone": "America/Los_Angeles"}));
    assert_eq!(
        serde_json::to_value(zoned).unwrap(),
        json!({"type": "period", "period": "P2D", "timeZone": "America/Los_Angeles", "origin": null})
    );
    let round_trip: Granularity =
        serde_json::from_value(serde_json::to_value(zoned).unwrap()).unwrap();
    assert_eq!(round_trip, zoned);
    for bad in [
        json!({"type": "period", "period": "P1D", "timeZone": "Mars/Olympus"}),
        json!({"type": "period", "period": "PT0S"}),
        json!({"type": "period", "period": "P1D", "origin": "yesterday"}),
        json!({"type": "duration", "duration": 0}),
    ] {
        assert!(Granularity::from_json(&bad).is_err(), "{bad}");
    }
}
