//! The search query (`docs/querying/searchquery.md`): which dimension values contain a text,
//! with how many rows hold each.

use henge_segment::granularity::Granularity;
use serde_json::Value;

use super::dimension::DimensionSpec;
use super::filter::text::SearchQuery;
use super::filter::{FilterSpec, StringOrdering};
use super::json::{type_id, Fields};
use crate::error::QueryError;
use crate::parse::Limits;

/// Druid's `SearchQuery` default (a `limit` of 0 also means it).
const DEFAULT_LIMIT: usize = 1000;

#[derive(Clone, Debug, PartialEq)]
pub(crate) struct SearchSpec {
    pub(crate) granularity: Granularity,
    pub(crate) filter: Option<FilterSpec>,
    /// `None`: every dimension of each segment.
    pub(crate) dimensions: Option<Vec<DimensionSpec>>,
    pub(crate) matcher: SearchMatcher,
    pub(crate) ordering: StringOrdering,
    pub(crate) limit: usize,
}

/// Which values a search returns.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum SearchMatcher {
    /// `{"type": "all"}` or no `query`: every value, null included.
    All,
    Text(SearchQuery),
}

impl SearchMatcher {
    /// Druid's `SearchQuerySpec.accept`: only `all` accepts null.
    pub(crate) fn accepts(&self, value: Option<&str>) -> bool {
        match (self, value) {
            (SearchMatcher::All, _) => true,
            (SearchMatcher::Text(query), Some(value)) => query.matches(value),
            (SearchMatcher::Text(_), None) => false,
        }
    }
}

pub(crate) fn parse_search(fields: &Fields<'_>, limits: &Limits) -> Result<SearchSpec, QueryError> {
    let granularity = match fields.get("granularity") {
        None | Some(Value::Null) => Granularity::All,
        Some(value) => Granularity::from_json(value).map_err(QueryError::invalid_query)?,
    };
    let filter = fields
        .get("filter")
        .filter(|filter| !filter.is_null())
        .map(|filter| FilterSpec::parse(filter, limits))
        .transpose()?;
    let dimensions = match fields.get("searchDimensions") {
        None | Some(Value::Null) => None,
        Some(_) => {
            let specs = fields.array("searchDimensions")?;
            limits.check_values("searchDimensions", specs.len())?;
            let parsed = specs
                .iter()
                .map(|spec| DimensionSpec::parse(spec, limits))
                .collect::<Result<Vec<_>, _>>()?;
            // Druid treats an empty list like none: every dimension.
            (!parsed.is_empty()).then_some(parsed)
        }
    };
    let matcher = match fields.get("query") {
        None | Some(Value::Null) => SearchMatcher::All,
        Some(query) if type_id(query, "type") == Some("all") => SearchMatcher::All,
        Some(query) => SearchMatcher::Text(SearchQuery::parse(query, limits)?),
    };
    let ordering = match fields.get("sort") {
        None | Some(Value::Null) => StringOrdering::Lexicographic,
        Some(sort) => StringOrdering::parse(sort)?,
    };
    let limit = match fields.u64("limit")? {
        None | Some(0) => DEFAULT_LIMIT,
        Some(limit) => usize::try_from(limit).unwrap_or(usize::MAX),
    };
    Ok(SearchSpec {
        granularity,
        filter,
        dimensions,
        matcher,
        ordering,
        limit,
    })
}
