//! Turning locally built segment files into published segments: push the file to deep
//! storage, describe it as Druid's `DataSegment`, and publish descriptors to the catalog in
//! one transaction.

use std::path::Path;

use henge_coordination::{catalog, MetaStore, SegmentRecord, MAX_TXN_OPS};
use henge_segment::id::{DataSegment, SegmentId, ShardSpec};
use henge_segment::FORMAT_VERSION;
use henge_storage::DeepStorage;

/// What a segment file holds, as needed for its descriptor.
pub struct BuiltFile<'a> {
    pub id: &'a SegmentId,
    pub path: &'a Path,
    pub size: u64,
    pub crc32: u32,
    pub num_rows: u64,
    pub dimensions: &'a [String],
    pub metrics: &'a [String],
    /// Core partitions of the set (0 = appendable, as realtime segments are).
    pub partitions: u32,
}

/// Pushes a segment file to deep storage and returns its descriptor.
pub async fn push(deep: &DeepStorage, file: BuiltFile<'_>) -> anyhow::Result<DataSegment> {
    let load_spec = deep.push(file.id, file.path).await?;
    Ok(DataSegment {
        data_source: file.id.datasource.clone(),
        interval: file.id.interval,
        version: file.id.version.clone(),
        load_spec,
        dimensions: file.dimensions.join(","),
        metrics: file.metrics.join(","),
        shard_spec: ShardSpec {
            kind: "numbered".into(),
            partition_num: file.id.partition,
            partitions: file.partitions,
        },
        binary_version: FORMAT_VERSION,
        size: file.size,
        identifier: file.id.to_string(),
        num_rows: file.num_rows,
        crc32: file.crc32,
    })
}

/// Publishes descriptors to the catalog, in transactions of at most [`MAX_TXN_OPS`]
/// segments. A set larger than one transaction becomes visible chunk by chunk, which readers
/// never observe half-done: a version overshadows older data only once all of its core
/// partitions are present (see `henge_broker::timeline`).
pub async fn publish(store: &dyn MetaStore, segments: &[DataSegment]) -> anyhow::Result<()> {
    let records = segments
        .iter()
        .map(|segment| {
            let payload = serde_json::to_value(segment)?;
            Ok(SegmentRecord::new_used(
                &segment.data_source,
                &segment.identifier,
                payload,
            ))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    for chunk in records.chunks(MAX_TXN_OPS) {
        catalog::publish_segments(store, chunk).await?;
    }
    Ok(())
}
