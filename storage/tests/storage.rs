//! Deep storage round trips and the segment cache's crash safety, on temporary
//! directories with real segment files.

use std::path::{Path, PathBuf};

use henge_segment::{
    ColumnSpec, ColumnType, DataSegment, Interval, SegmentBuilder, SegmentId, ShardSpec,
};
use henge_storage::deep::storage_dir;
use henge_storage::{DeepStorage, Error, SegmentCache};
use serde_json::json;
use tempfile::TempDir;

/// A deep storage and a few segments pushed into it.
struct Fixture {
    _dirs: TempDir,
    deep: DeepStorage,
    cache_dir: PathBuf,
    segments: Vec<DataSegment>,
}

fn segment_id(partition: u32) -> SegmentId {
    SegmentId {
        datasource: "wikipedia".to_string(),
        interval: Interval::parse("2015-09-12/2015-09-13").unwrap(),
        version: "2024-01-01T00:00:00.000Z".to_string(),
        partition,
    }
}

/// Writes a small segment file with `rows` rows; returns its record (no load spec yet).
fn write_segment(path: &Path, id: &SegmentId, rows: i64) -> DataSegment {
    let mut builder = SegmentBuilder::new(vec![
        ColumnSpec::dimension("page", ColumnType::String),
        ColumnSpec::metric("added", ColumnType::Long),
    ]);
    for row in 0..rows {
        let page = format!("page-{}", row % 7);
        builder.push_row(
            id.interval.start + row * 1000,
            &[page.as_str().into(), row.into()],
        );
    }
    let file = std::fs::File::create(path).unwrap();
    let summary = builder.write(std::io::BufWriter::new(file)).unwrap();
    DataSegment {
        data_source: id.datasource.clone(),
        interval: id.interval,
        version: id.version.clone(),
        load_spec: json!(null),
        dimensions: "page".to_string(),
        metrics: "added".to_string(),
        shard_spec: ShardSpec::numbered(id.partition, 2),
        binary_version: henge_segment::FORMAT_VERSION,
        size: summary.bytes,
        identifier: id.to_string(),
        num_rows: summary.num_rows,
        crc32: summary.crc32,
    }
}

async fn fixture() -> Fixture {
    let dirs = tempfile::tempdir().unwrap();
    let deep_root = dirs.path().join("deep");
    let deep = DeepStorage::from_url(&format!("file://{}", deep_root.display())).unwrap();
    let mut segments = Vec::new();
    for partition in 0..2 {
        let id = segment_id(partition);
        let local = dirs.path().join(format!("built-{partition}.seg"));
        let mut record = write_segment(&local, &id, 100 + i64::from(partition) * 50);
        record.load_spec = deep.push(&id, &local).await.unwrap();
        segments.push(record);
    }
    Fixture {
        cache_dir: dirs.path().join("cache"),
        _dirs: dirs,
        deep,
        segments,
    }
}

fn cached_file(cache_dir: &Path, record: &DataSegment) -> PathBuf {
    cache_dir
        .join("segments")
        .join(storage_dir(&record.id()))
        .join("index.seg")
}

#[tokio::test]
async fn push_pull_round_trip() {
    let dirs = tempfile::tempdir().unwrap();
    let root = dirs.path().join("deep");
    let deep = DeepStorage::from_url(&format!("file://{}", root.display())).unwrap();
    let id = segment_id(1);
    let local = dirs.path().join("local.seg");
    write_segment(&local, &id, 1000);

    let load_spec = deep.push(&id, &local).await.unwrap();
    assert_eq!(load_spec["type"], "local");
    let stored = load_spec["path"].as_str().unwrap();
    let expected = root.canonicalize().unwrap().join(
        "wikipedia/2015-09-12T00_00_00.000Z_2015-09-13T00_00_00.000Z/2024-01-01T00_00_00.000Z/1/index.seg",
    );
    assert_eq!(Path::new(stored), expected);

    let pulled = dirs.path().join("pulled/copy.seg");
    deep.pull(&load_spec, &pulled).await.unwrap();
    assert_eq!(
        std::fs::read(&pulled).unwrap(),
        std::fs::read(&local).unwrap()
    );
    let leftovers: Vec<_> = std::fs::read_dir(pulled.parent().unwrap())
        .unwrap()
        .collect();
    assert_eq!(leftovers.len(), 1, "no temporary file left behind");

    deep.delete(&load_spec).await.unwrap();
    assert!(std::fs::metadata(&expected).is_err());
    assert!(matches!(
        deep.pull(&load_spec, &dirs.path().join("gone.seg")).await,
        Err(Error::ObjectStore(_))
    ));
    assert!(std::fs::metadata(dirs.path().join("gone.seg")).is_err());
    deep.delete(&load_spec).await.unwrap();

    let outside = json!({"type": "local", "path": "/etc/passwd"});
    assert!(matches!(
        deep.pull(&outside, &pulled).await,
        Err(Error::InvalidLoadSpec { .. })
    ));
    let s3 = json!({"type": "s3_zip", "bucket": "b", "key": "k"});
    assert!(matches!(
        deep.delete(&s3).await,
        Err(Error::InvalidLoadSpec { .. })
    ));
    assert!(matches!(
        DeepStorage::from_url("s3://bucket/x"),
        Err(Error::InvalidUrl { .. })
    ));
    assert!(matches!(
        DeepStorage::from_url("file://relative"),
        Err(Error::InvalidUrl { .. })
    ));
}

#[tokio::test]
async fn cache_survives_reopen() {
    let fixture = fixture().await;
    let (cache, present) = SegmentCache::open(&fixture.cache_dir).await.unwrap();
    assert!(present.is_empty());
    for record in &fixture.segments {
        let segment = cache.load(record, &fixture.deep).await.unwrap();
        assert_eq!(segment.num_rows() as u64, record.num_rows);
    }
    assert_eq!(cache.list(), fixture.segments);
    let total: u64 = fixture.segments.iter().map(|record| record.size).sum();
    assert_eq!(cache.size_bytes(), total);
    drop(cache);

    // Deep storage is gone: a reopened cache serves from its own files.
    for record in &fixture.segments {
        fixture.deep.delete(&record.load_spec).await.unwrap();
    }
    let (cache, present) = SegmentCache::open(&fixture.cache_dir).await.unwrap();
    assert_eq!(present, fixture.segments);
    let first = &fixture.segments[0];
    assert!(cache.get(&first.id()).is_some());
    let segment = cache.load(first, &fixture.deep).await.unwrap();
    assert_eq!(segment.crc32(), first.crc32);

    assert!(cache.drop_segment(&first.id()).await.unwrap());
    assert!(!cache.drop_segment(&first.id()).await.unwrap());
    assert!(std::fs::metadata(cached_file(&fixture.cache_dir, first)).is_err());
    assert!(cache.get(&first.id()).is_none());
    drop(cache);
    let (_cache, present) = SegmentCache::open(&fixture.cache_dir).await.unwrap();
    assert_eq!(present, fixture.segments[1..]);
}

#[tokio::test]
async fn corrupted_or_truncated_files_are_dropped_at_open_and_downloaded_again() {
    let fixture = fixture().await;
    {
        let (cache, _) = SegmentCache::open(&fixture.cache_dir).await.unwrap();
        for record in &fixture.segments {
            cache.load(record, &fixture.deep).await.unwrap();
        }
    }
    let (flipped, truncated) = (&fixture.segments[0], &fixture.segments[1]);
    let flipped_path = cached_file(&fixture.cache_dir, flipped);
    let mut bytes = std::fs::read(&flipped_path).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x55;
    std::fs::write(&flipped_path, &bytes).unwrap();
    let truncated_path = cached_file(&fixture.cache_dir, truncated);
    let bytes = std::fs::read(&truncated_path).unwrap();
    std::fs::write(&truncated_path, &bytes[..bytes.len() - 10]).unwrap();

    let (cache, present) = SegmentCache::open(&fixture.cache_dir).await.unwrap();
    assert!(present.is_empty(), "both damaged files are dropped");
    assert!(cache.list().is_empty());
    assert!(std::fs::metadata(&flipped_path).is_err());
    assert!(std::fs::metadata(&truncated_path).is_err());

    for record in &fixture.segments {
        let segment = cache.load(record, &fixture.deep).await.unwrap();
        assert_eq!(segment.crc32(), record.crc32);
    }
    drop(cache);
    let (_cache, present) = SegmentCache::open(&fixture.cache_dir).await.unwrap();
    assert_eq!(present, fixture.segments);
}

#[tokio::test]
async fn temp_and_unrecorded_files_are_cleaned_at_open() {
    let fixture = fixture().await;
    let (first, second) = (&fixture.segments[0], &fixture.segments[1]);
    {
        let (cache, _) = SegmentCache::open(&fixture.cache_dir).await.unwrap();
        cache.load(first, &fixture.deep).await.unwrap();
    }
    // A crash mid-download of `second` (half-written temp file), a crash between its
    // rename and the manifest update (complete but unrecorded file), and a manifest temp.
    let second_path = cached_file(&fixture.cache_dir, second);
    let second_dir = second_path.parent().unwrap();
    std::fs::create_dir_all(second_dir).unwrap();
    std::fs::write(second_dir.join(".index.seg.tmp-4242"), b"half a segm").unwrap();
    fixture
        .deep
        .pull(&second.load_spec, &second_path)
        .await
        .unwrap();
    std::fs::write(fixture.cache_dir.join(".manifest.json.tmp-4242"), b"{").unwrap();

    let (cache, present) = SegmentCache::open(&fixture.cache_dir).await.unwrap();
    assert_eq!(present, std::slice::from_ref(first));
    assert!(
        std::fs::metadata(second_dir).is_err(),
        "stray files and their directory are gone"
    );
    assert!(std::fs::metadata(fixture.cache_dir.join(".manifest.json.tmp-4242")).is_err());
    assert!(std::fs::metadata(cached_file(&fixture.cache_dir, first)).is_ok());
    cache.load(second, &fixture.deep).await.unwrap();
    assert_eq!(cache.list().len(), 2);
}

#[tokio::test]
async fn download_that_does_not_match_its_record_is_rejected() {
    let fixture = fixture().await;
    let (cache, _) = SegmentCache::open(&fixture.cache_dir).await.unwrap();
    let mut wrong_crc = fixture.segments[0].clone();
    wrong_crc.crc32 ^= 1;
    let err = cache.load(&wrong_crc, &fixture.deep).await.unwrap_err();
    assert!(matches!(err, Error::Verification { .. }), "{err:?}");
    let mut wrong_size = fixture.segments[1].clone();
    wrong_size.size += 1;
    let err = cache.load(&wrong_size, &fixture.deep).await.unwrap_err();
    assert!(matches!(err, Error::Verification { .. }), "{err:?}");
    assert!(cache.list().is_empty());
    assert!(std::fs::metadata(cached_file(&fixture.cache_dir, &wrong_crc)).is_err());
    assert!(std::fs::metadata(fixture.cache_dir.join("segments/wikipedia")).is_err());
}

#[tokio::test]
async fn corrupted_manifest_means_an_empty_cache() {
    let fixture = fixture().await;
    {
        let (cache, _) = SegmentCache::open(&fixture.cache_dir).await.unwrap();
        cache
            .load(&fixture.segments[0], &fixture.deep)
            .await
            .unwrap();
    }
    let manifest = fixture.cache_dir.join("manifest.json");
    let mut bytes = std::fs::read(&manifest).unwrap();
    bytes[3] ^= 0xff;
    std::fs::write(&manifest, &bytes).unwrap();
    let (cache, present) = SegmentCache::open(&fixture.cache_dir).await.unwrap();
    assert!(present.is_empty());
    assert!(std::fs::metadata(cached_file(&fixture.cache_dir, &fixture.segments[0])).is_err());
    cache
        .load(&fixture.segments[0], &fixture.deep)
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_loads_of_one_segment_share_one_copy() {
    let fixture = fixture().await;
    let (cache, _) = SegmentCache::open(&fixture.cache_dir).await.unwrap();
    let record = &fixture.segments[0];
    let loads = (0..8).map(|_| cache.load(record, &fixture.deep));
    let segments = futures::future::try_join_all(loads).await.unwrap();
    assert!(segments
        .iter()
        .all(|segment| segment.crc32() == record.crc32));
    assert_eq!(cache.list(), std::slice::from_ref(record));
}
