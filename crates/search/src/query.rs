//! What is searched for: free text or an IMDb id, validated from the request's parameters.

use std::fmt;

use crate::SearchError;

/// Longest text query accepted, in characters (after trimming).
pub const MAX_QUERY_CHARS: usize = 200;

/// A validated search: `GET /api/search?query=...` or `GET /api/search?imdbId=tt...`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SearchQuery {
    /// Free text, trimmed, 1 to [`MAX_QUERY_CHARS`] characters.
    Text(String),
    /// An IMDb title id. Stremio add-ons answer only these.
    Imdb(ImdbId),
}

impl SearchQuery {
    /// Builds a query from the request's `query` and `imdbId` parameters. Exactly one must
    /// be given; a parameter given empty counts as given (and is then rejected as empty).
    pub fn new(query: Option<&str>, imdb_id: Option<&str>) -> Result<SearchQuery, SearchError> {
        match (query, imdb_id) {
            (Some(_), Some(_)) => Err(SearchError::InvalidRequest(
                "give either query or imdbId, not both".into(),
            )),
            (None, None) => Err(SearchError::InvalidRequest(
                "give a query (text) or an imdbId (tt followed by 7 or 8 digits)".into(),
            )),
            (Some(text), None) => SearchQuery::text(text),
            (None, Some(id)) => Ok(SearchQuery::Imdb(ImdbId::parse(id)?)),
        }
    }

    /// A text query: rejected when empty or blank, or longer than [`MAX_QUERY_CHARS`].
    pub fn text(text: &str) -> Result<SearchQuery, SearchError> {
        let text = text.trim();
        if text.is_empty() {
            return Err(SearchError::InvalidRequest("the query is empty".into()));
        }
        let chars = text.chars().count();
        if chars > MAX_QUERY_CHARS {
            return Err(SearchError::InvalidRequest(format!(
                "the query is {chars} characters long; at most {MAX_QUERY_CHARS} are accepted"
            )));
        }
        if text.chars().any(char::is_control) {
            return Err(SearchError::InvalidRequest(
                "the query contains control characters".into(),
            ));
        }
        Ok(SearchQuery::Text(text.to_owned()))
    }

    /// An IMDb-id query.
    pub fn imdb(id: &str) -> Result<SearchQuery, SearchError> {
        Ok(SearchQuery::Imdb(ImdbId::parse(id)?))
    }
}

impl fmt::Display for SearchQuery {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SearchQuery::Text(text) => write!(f, "{text:?}"),
            SearchQuery::Imdb(id) => write!(f, "{id}"),
        }
    }
}

/// An IMDb title id: `tt` followed by 7 or 8 digits, kept in lowercase (`tt0063350`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ImdbId(String);

impl ImdbId {
    /// Parses an id in any case of `tt` (`TT0063350` becomes `tt0063350`); surrounding
    /// whitespace is ignored.
    pub fn parse(id: &str) -> Result<ImdbId, SearchError> {
        let id = id.trim();
        let digits = id
            .get(..2)
            .filter(|tt| tt.eq_ignore_ascii_case("tt"))
            .map(|_| &id[2..])
            .filter(|d| (7..=8).contains(&d.len()) && d.bytes().all(|b| b.is_ascii_digit()));
        match digits {
            Some(digits) => Ok(ImdbId(format!("tt{digits}"))),
            None => Err(SearchError::InvalidRequest(format!(
                "{:?} is not an IMDb id: expected tt followed by 7 or 8 digits",
                id.chars().take(40).collect::<String>()
            ))),
        }
    }

    /// `tt0063350`.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The digits alone, `0063350`, as the Newznab/Torznab `imdbid` parameter is specified.
    pub fn digits(&self) -> &str {
        &self.0[2..]
    }
}

impl fmt::Display for ImdbId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
