//! Segment identity: [`SegmentId`] (datasource + interval + version + partition) and Druid's
//! [`DataSegment`] record, the JSON the catalog and Druid's APIs carry for a segment.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::time::Interval;

/// The identity of one segment.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct SegmentId {
    pub datasource: String,
    pub interval: Interval,
    pub version: String,
    pub partition: u32,
}

/// Druid's `SegmentId.toString()`: `{ds}_{start}_{end}_{version}`, plus `_{partition}` when
/// the partition is not 0.
impl fmt::Display for SegmentId {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            formatter,
            "{}_{}_{}_{}",
            self.datasource,
            crate::time::format_timestamp(self.interval.start),
            crate::time::format_timestamp(self.interval.end),
            self.version
        )?;
        if self.partition > 0 {
            write!(formatter, "_{}", self.partition)?;
        }
        Ok(())
    }
}

/// Druid's `DataSegment` JSON (camelCase), with two Henge extensions that default to 0.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DataSegment {
    pub data_source: String,
    pub interval: Interval,
    pub version: String,
    /// Where deep storage keeps the file, e.g. `{"type":"local","path":"..."}`.
    pub load_spec: serde_json::Value,
    /// Comma-separated dimension names, as Druid writes them.
    pub dimensions: String,
    /// Comma-separated metric names.
    pub metrics: String,
    pub shard_spec: ShardSpec,
    /// The segment format version ([`crate::FORMAT_VERSION`]).
    pub binary_version: u32,
    /// File size in bytes.
    pub size: u64,
    /// [`SegmentId`]'s display form.
    pub identifier: String,
    /// Henge extension: row count.
    #[serde(default)]
    pub num_rows: u64,
    /// Henge extension: CRC32 of the whole segment file ([`crate::Segment::crc32`]).
    #[serde(default)]
    pub crc32: u32,
}

impl DataSegment {
    /// This segment's identity.
    pub fn id(&self) -> SegmentId {
        SegmentId {
            datasource: self.data_source.clone(),
            interval: self.interval,
            version: self.version.clone(),
            partition: self.shard_spec.partition_num,
        }
    }
}

/// Druid's shard spec; Henge writes `numbered` ones.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ShardSpec {
    #[serde(rename = "type")]
    pub kind: String,
    pub partition_num: u32,
    pub partitions: u32,
}

impl ShardSpec {
    /// A `numbered` shard spec: partition `partition_num` of `partitions`.
    pub fn numbered(partition_num: u32, partitions: u32) -> ShardSpec {
        ShardSpec {
            kind: "numbered".to_string(),
            partition_num,
            partitions,
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn id(partition: u32) -> SegmentId {
        SegmentId {
            datasource: "wikipedia".to_string(),
            interval: Interval::parse("2015-09-12/2015-09-13").unwrap(),
            version: "2024-01-01T00:00:00.000Z".to_string(),
            partition,
        }
    }

    #[test]
    fn displays_like_druid() {
        assert_eq!(
            id(0).to_string(),
            "wikipedia_2015-09-12T00:00:00.000Z_2015-09-13T00:00:00.000Z_2024-01-01T00:00:00.000Z"
        );
        assert_eq!(
            id(3).to_string(),
            "wikipedia_2015-09-12T00:00:00.000Z_2015-09-13T00:00:00.000Z_2024-01-01T00:00:00.000Z_3"
        );
    }

    #[test]
    fn data_segment_json() {
        let segment = DataSegment {
            data_source: "wikipedia".to_string(),
            interval: id(1).interval,
            version: id(1).version,
            load_spec: json!({"type": "local", "path": "/tmp/x.seg"}),
            dimensions: "page,user".to_string(),
            metrics: "added".to_string(),
            shard_spec: ShardSpec::numbered(1, 2),
            binary_version: crate::FORMAT_VERSION,
            size: 1234,
            identifier: id(1).to_string(),
            num_rows: 10,
            crc32: 7,
        };
        let value = serde_json::to_value(&segment).unwrap();
        assert_eq!(value["dataSource"], "wikipedia");
        assert_eq!(
            value["interval"],
            "2015-09-12T00:00:00.000Z/2015-09-13T00:00:00.000Z"
        );
        assert_eq!(
            value["shardSpec"],
            json!({"type": "numbered", "partitionNum": 1, "partitions": 2})
        );
        assert_eq!(value["binaryVersion"], 2);
        assert_eq!(value["numRows"], 10);
        let back: DataSegment = serde_json::from_value(value).unwrap();
        assert_eq!(back, segment);
        assert_eq!(back.id(), id(1));
        let mut druid_json = serde_json::to_value(&segment).unwrap();
        let object = druid_json.as_object_mut().unwrap();
        object.remove("numRows");
        object.remove("crc32");
        let druid: DataSegment = serde_json::from_value(druid_json).unwrap();
        assert_eq!((druid.num_rows, druid.crc32), (0, 0));
    }
}
