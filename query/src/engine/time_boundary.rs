//! TimeBoundary on one segment: the first and last selected row of the clipped intervals
//! (the time column is sorted, so no row is read beyond those two).

use super::SegmentView;
use crate::partial::TimeBoundaryPartial;

pub(crate) fn run(view: &SegmentView<'_>) -> TimeBoundaryPartial {
    let times = view.segment.times();
    let first = view
        .pieces
        .iter()
        .find_map(|piece| view.selected_rows(piece.rows.clone()).next());
    let last = view
        .pieces
        .iter()
        .rev()
        .find_map(|piece| view.selected_rows(piece.rows.clone()).next_back());
    TimeBoundaryPartial {
        min: first.map(|row| times[row]),
        max: last.map(|row| times[row]),
    }
}
