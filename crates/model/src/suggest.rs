//! "Did you mean" suggestions for names a user or a model typed: the closest declared name by
//! edit distance. Shared by the CLI's checks and the MCP server's argument checks, so both
//! suggest the same name for the same typo.

/// Parameters every resource accepts (FHIR R4 "Parameters for all resources") besides the
/// result parameters ([`RESULT_PARAMETERS`](crate::RESULT_PARAMETERS)); statements rarely list
/// them.
pub const COMMON_PARAMETERS: &[&str] = &[
    "_id",
    "_lastUpdated",
    "_tag",
    "_profile",
    "_security",
    "_text",
    "_content",
    "_list",
    "_has",
    "_type",
    "_query",
    "_filter",
    "_source",
    "_since",
    "_at",
];

/// The closest candidate to `word` by edit distance (case-insensitive), if it is close enough
/// to be a likely typo: at most 2 edits, or a third of the word's length. Ties go to the
/// alphabetically first candidate, so the answer does not depend on the candidates' order.
///
/// ```
/// use fhirforge_model::suggest::did_you_mean;
/// let names = ["family", "given", "birthdate"];
/// assert_eq!(did_you_mean("familly", &names).as_deref(), Some("family"));
/// assert_eq!(did_you_mean("zzzzzz", &names), None);
/// ```
pub fn did_you_mean<'a, I, S>(word: &str, candidates: I) -> Option<String>
where
    I: IntoIterator<Item = &'a S>,
    S: AsRef<str> + 'a + ?Sized,
{
    let word_l = word.to_lowercase();
    let limit = 2.max(word.chars().count() / 3);
    candidates
        .into_iter()
        .map(|c| {
            let c = c.as_ref();
            (distance(&word_l, &c.to_lowercase()), c)
        })
        .filter(|(d, _)| *d <= limit)
        .min_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.cmp(b.1)))
        .map(|(_, c)| c.to_owned())
}

/// Levenshtein distance over chars.
pub fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = if ca == *cb {
                prev
            } else {
                1 + prev.min(row[j]).min(cur)
            };
            prev = cur;
        }
    }
    row[b.len()]
}

/// The base name of a search parameter as typed: `family:exact` → `family`,
/// `subject:Patient.name` → `subject`, `_has:Observation:...` → `_has`.
///
/// ```
/// assert_eq!(fhirforge_model::suggest::base_name("family:exact"), "family");
/// ```
pub fn base_name(name: &str) -> &str {
    let end = name.find([':', '.']).unwrap_or(name.len());
    &name[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edit_distance_and_suggestions() {
        assert_eq!(distance("family", "familly"), 1);
        assert_eq!(distance("", "abc"), 3);
        assert_eq!(distance("birthdate", "birthdate"), 0);
        let names = ["family", "given", "birthdate", "gender"];
        assert_eq!(did_you_mean("familly", &names).as_deref(), Some("family"));
        assert_eq!(
            did_you_mean("BirthDate", &names).as_deref(),
            Some("birthdate")
        );
        assert_eq!(did_you_mean("zzzzzz", &names), None);
    }

    #[test]
    fn base_names() {
        assert_eq!(base_name("family:exact"), "family");
        assert_eq!(base_name("subject:Patient.name"), "subject");
        assert_eq!(base_name("_has:Observation:patient:code"), "_has");
        assert_eq!(base_name("birthdate"), "birthdate");
    }
}
