//! Recognising FHIR-shaped paths: the FHIR base inside a document, and what each path under it
//! means (`/{Type}/{id}/_history/{vid}` is a vread).

use std::collections::HashMap;

/// The FHIR R4 (4.0.1) resource types. A path segment equal to one of these is what marks the
/// FHIR base of a document; under that base, other UpperCamelCase segments are accepted too
/// (with a warning), so R5 or custom types still read.
pub(crate) const R4_RESOURCE_TYPES: &[&str] = &[
    "Account",
    "ActivityDefinition",
    "AdverseEvent",
    "AllergyIntolerance",
    "Appointment",
    "AppointmentResponse",
    "AuditEvent",
    "Basic",
    "Binary",
    "BiologicallyDerivedProduct",
    "BodyStructure",
    "Bundle",
    "CapabilityStatement",
    "CarePlan",
    "CareTeam",
    "CatalogEntry",
    "ChargeItem",
    "ChargeItemDefinition",
    "Claim",
    "ClaimResponse",
    "ClinicalImpression",
    "CodeSystem",
    "Communication",
    "CommunicationRequest",
    "CompartmentDefinition",
    "Composition",
    "ConceptMap",
    "Condition",
    "Consent",
    "Contract",
    "Coverage",
    "CoverageEligibilityRequest",
    "CoverageEligibilityResponse",
    "DetectedIssue",
    "Device",
    "DeviceDefinition",
    "DeviceMetric",
    "DeviceRequest",
    "DeviceUseStatement",
    "DiagnosticReport",
    "DocumentManifest",
    "DocumentReference",
    "EffectEvidenceSynthesis",
    "Encounter",
    "Endpoint",
    "EnrollmentRequest",
    "EnrollmentResponse",
    "EpisodeOfCare",
    "EventDefinition",
    "Evidence",
    "EvidenceVariable",
    "ExampleScenario",
    "ExplanationOfBenefit",
    "FamilyMemberHistory",
    "Flag",
    "Goal",
    "GraphDefinition",
    "Group",
    "GuidanceResponse",
    "HealthcareService",
    "ImagingStudy",
    "Immunization",
    "ImmunizationEvaluation",
    "ImmunizationRecommendation",
    "ImplementationGuide",
    "InsurancePlan",
    "Invoice",
    "Library",
    "Linkage",
    "List",
    "Location",
    "Measure",
    "MeasureReport",
    "Media",
    "Medication",
    "MedicationAdministration",
    "MedicationDispense",
    "MedicationKnowledge",
    "MedicationRequest",
    "MedicationStatement",
    "MedicinalProduct",
    "MedicinalProductAuthorization",
    "MedicinalProductContraindication",
    "MedicinalProductIndication",
    "MedicinalProductIngredient",
    "MedicinalProductInteraction",
    "MedicinalProductManufactured",
    "MedicinalProductPackaged",
    "MedicinalProductPharmaceutical",
    "MedicinalProductUndesirableEffect",
    "MessageDefinition",
    "MessageHeader",
    "MolecularSequence",
    "NamingSystem",
    "NutritionOrder",
    "Observation",
    "ObservationDefinition",
    "OperationDefinition",
    "OperationOutcome",
    "Organization",
    "OrganizationAffiliation",
    "Parameters",
    "Patient",
    "PaymentNotice",
    "PaymentReconciliation",
    "Person",
    "PlanDefinition",
    "Practitioner",
    "PractitionerRole",
    "Procedure",
    "Provenance",
    "Questionnaire",
    "QuestionnaireResponse",
    "RelatedPerson",
    "RequestGroup",
    "ResearchDefinition",
    "ResearchElementDefinition",
    "ResearchStudy",
    "ResearchSubject",
    "RiskAssessment",
    "RiskEvidenceSynthesis",
    "Schedule",
    "SearchParameter",
    "ServiceRequest",
    "Slot",
    "Specimen",
    "SpecimenDefinition",
    "StructureDefinition",
    "StructureMap",
    "Subscription",
    "Substance",
    "SubstanceNucleicAcid",
    "SubstancePolymer",
    "SubstanceProtein",
    "SubstanceReferenceInformation",
    "SubstanceSourceMaterial",
    "SubstanceSpecification",
    "SupplyDelivery",
    "SupplyRequest",
    "Task",
    "TerminologyCapabilities",
    "TestReport",
    "TestScript",
    "ValueSet",
    "VerificationResult",
    "VisionPrescription",
];

/// Whether `name` is an R4 resource type.
pub(crate) fn is_r4_type(name: &str) -> bool {
    R4_RESOURCE_TYPES.binary_search(&name).is_ok()
}

/// Whether `segment` looks like a resource type: an ASCII letter-and-digit word starting upper-case.
/// Only such segments ever become resource types, so a resource type name is always safe to
/// emit as an identifier or literal.
pub(crate) fn looks_like_type(segment: &str) -> bool {
    segment.len() <= 64
        && segment.starts_with(|c: char| c.is_ascii_uppercase())
        && segment.chars().all(|c| c.is_ascii_alphanumeric())
}

/// Whether `name` is a plausible operation name (`everything`, `meta-add`, `health-cards-issue`).
pub(crate) fn is_operation_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name.starts_with(|c: char| c.is_ascii_alphabetic())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.')
}

/// Whether a literal path segment is plain URL path text: printable ASCII without quotes,
/// backslashes, percent signs, braces or URL delimiters.
pub(crate) fn plain_segment(segment: &str) -> bool {
    !segment.is_empty()
        && segment.chars().all(|c| {
            c.is_ascii_graphic()
                && !matches!(
                    c,
                    '"' | '\\' | '`' | '#' | '?' | '<' | '>' | '^' | '|' | '{' | '}' | '%'
                )
        })
}

/// One segment of a path template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Segment<'a> {
    /// Literal text.
    Literal(&'a str),
    /// A whole-segment template variable (`{logical_id}`).
    Var(&'a str),
}

/// Splits a path template into segments, ignoring empty ones (`//`, trailing `/`).
pub(crate) fn segments(path: &str) -> Vec<Segment<'_>> {
    path.split('/')
        .filter(|s| !s.is_empty())
        .map(
            |s| match s.strip_prefix('{').and_then(|r| r.strip_suffix('}')) {
                Some(name) if !name.contains(['{', '}']) => Segment::Var(name),
                _ => Segment::Literal(s),
            },
        )
        .collect()
}

/// A vendor typo repaired: a segment `Type{var}` (the slash between a resource type and the id
/// variable missing, `/Observation{id}`) split into `Type` and `{var}`. `None` when no segment
/// has that shape.
pub(crate) fn repair_missing_slash<'a>(segs: &[Segment<'a>]) -> Option<Vec<Segment<'a>>> {
    let at = segs.iter().position(|s| match s {
        Segment::Literal(l) => split_type_var(l).is_some(),
        Segment::Var(_) => false,
    })?;
    let Segment::Literal(l) = segs[at] else {
        return None;
    };
    let (t, var) = split_type_var(l)?;
    let mut out = segs[..at].to_vec();
    out.push(Segment::Literal(t));
    out.push(Segment::Var(var));
    out.extend_from_slice(&segs[at + 1..]);
    Some(out)
}

/// `Observation{id}` as (`Observation`, `id`) when the text before the brace is an R4 type.
fn split_type_var(segment: &str) -> Option<(&str, &str)> {
    let (t, rest) = segment.split_once('{')?;
    let var = rest.strip_suffix('}')?;
    (is_r4_type(t) && !var.is_empty() && !var.contains(['{', '}'])).then_some((t, var))
}

/// Finds the FHIR base prefix of a document: the literal path prefix that most often precedes a
/// segment that is an R4 resource type (ties go to the shorter, then the smaller prefix). `None`
/// when no path has such a segment.
///
/// A single prefix keeps proprietary routes that merely contain `$run` or a capitalised word
/// (OpenEMR's `/api/background_service/$run`) out of the FHIR API.
pub(crate) fn find_base<'a>(paths: impl Iterator<Item = &'a str>) -> Option<String> {
    // A map: a search of the list per path was quadratic for hostile documents whose paths
    // all have different prefixes.
    let mut counts: HashMap<String, usize> = HashMap::new();
    for path in paths {
        let segs = segments(path);
        for (i, seg) in segs.iter().enumerate() {
            if let Segment::Literal(s) = seg {
                if is_r4_type(s) {
                    let prefix: Option<Vec<&str>> = segs[..i]
                        .iter()
                        .map(|s| match s {
                            Segment::Literal(l) => Some(*l),
                            Segment::Var(_) => None,
                        })
                        .collect();
                    // The prefix becomes part of the base URL: only plain URL path text.
                    if let Some(prefix) = prefix.filter(|p| p.iter().all(|s| plain_segment(s))) {
                        let prefix = prefix.iter().fold(String::new(), |acc, s| acc + "/" + s);
                        *counts.entry(prefix).or_default() += 1;
                    }
                    break;
                }
            }
        }
    }
    let mut counts: Vec<(String, usize)> = counts.into_iter().collect();
    counts.sort_by(|(pa, na), (pb, nb)| nb.cmp(na).then(pa.len().cmp(&pb.len())).then(pa.cmp(pb)));
    counts.into_iter().next().map(|(p, _)| p)
}

/// What a path under the FHIR base is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum FhirPath<'a> {
    /// `[base]`: batch/transaction (POST), search-system (GET).
    Root,
    /// `[base]/metadata`.
    Metadata,
    /// `[base]/.well-known/smart-configuration`.
    SmartConfiguration,
    /// `[base]/_history`.
    SystemHistory,
    /// `[base]/_search`.
    SystemSearch,
    /// `[base]/$op`.
    SystemOperation(&'a str),
    /// `[base]/[type]`.
    Type(&'a str),
    /// `[base]/[type]/_search`.
    TypeSearch(&'a str),
    /// `[base]/[type]/_history`.
    TypeHistory(&'a str),
    /// `[base]/[type]/$op`.
    TypeOperation(&'a str, &'a str),
    /// `[base]/[type]/{id}`.
    Instance(&'a str),
    /// `[base]/[type]/{id}/_history`.
    InstanceHistory(&'a str),
    /// `[base]/[type]/{id}/_history/{vid}`.
    Version(&'a str),
    /// `[base]/[type]/{id}/$op`.
    InstanceOperation(&'a str, &'a str),
}

/// Classifies the segments after the FHIR base; `None` for anything else (compartment searches,
/// vendor routes), which the reader keeps as a generic operation.
pub(crate) fn classify<'a>(rest: &[Segment<'a>]) -> Option<FhirPath<'a>> {
    use Segment::{Literal as L, Var as V};
    let op = |s: &'a str| s.strip_prefix('$').filter(|n| is_operation_name(n));
    let ty = |s: &'a str| Some(s).filter(|s| looks_like_type(s));
    Some(match rest {
        [] => FhirPath::Root,
        [L("metadata")] => FhirPath::Metadata,
        [L(".well-known"), L("smart-configuration")] => FhirPath::SmartConfiguration,
        [L("_history")] => FhirPath::SystemHistory,
        [L("_search")] => FhirPath::SystemSearch,
        [L(s)] if s.starts_with('$') => FhirPath::SystemOperation(op(s)?),
        [L(t)] => FhirPath::Type(ty(t)?),
        [L(t), L("_search")] => FhirPath::TypeSearch(ty(t)?),
        [L(t), L("_history")] => FhirPath::TypeHistory(ty(t)?),
        [L(t), L(s)] if s.starts_with('$') => FhirPath::TypeOperation(ty(t)?, op(s)?),
        [L(t), V(_)] => FhirPath::Instance(ty(t)?),
        [L(t), V(_), L("_history")] => FhirPath::InstanceHistory(ty(t)?),
        [L(t), V(_), L("_history"), V(_)] => FhirPath::Version(ty(t)?),
        [L(t), V(_), L(s)] if s.starts_with('$') => FhirPath::InstanceOperation(ty(t)?, op(s)?),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_type_list_is_sorted_for_binary_search() {
        assert!(R4_RESOURCE_TYPES.windows(2).all(|w| w[0] < w[1]));
        assert!(is_r4_type("Patient") && is_r4_type("VisionPrescription"));
        assert!(!is_r4_type("patient") && !is_r4_type("Resource"));
    }

    #[test]
    fn the_base_is_the_most_common_prefix_before_a_type() {
        let paths = [
            "/api/patient",
            "/api/background_service/$run",
            "/fhir/Patient",
            "/fhir/Patient/{uuid}",
            "/fhir/$export",
            "/api/Patient/{pid}/Thing",
        ];
        assert_eq!(find_base(paths.into_iter()), Some("/fhir".to_owned()));
        assert_eq!(
            find_base(["/Patient", "/Patient/{id}"].into_iter()),
            Some(String::new())
        );
        assert_eq!(find_base(["/api/2.0/patients/"].into_iter()), None);
        assert_eq!(find_base(["/{tenant}/Patient"].into_iter()), None);
        assert_eq!(find_base(["/a\"b/Patient"].into_iter()), None);
        assert_eq!(find_base(["/fn\n/Patient"].into_iter()), None);
    }

    #[test]
    fn paths_are_classified_like_the_fhir_rest_spec() {
        let c = |p: &'static str| classify(&segments(p));
        assert_eq!(c("/"), Some(FhirPath::Root));
        assert_eq!(c("/metadata"), Some(FhirPath::Metadata));
        assert_eq!(c("/$export"), Some(FhirPath::SystemOperation("export")));
        assert_eq!(c("/Patient/"), Some(FhirPath::Type("Patient")));
        assert_eq!(c("/Patient/_search"), Some(FhirPath::TypeSearch("Patient")));
        assert_eq!(
            c("/Patient/$meta"),
            Some(FhirPath::TypeOperation("Patient", "meta"))
        );
        assert_eq!(
            c("/Patient/{logical_id}"),
            Some(FhirPath::Instance("Patient"))
        );
        assert_eq!(
            c("/Patient/{id}/_history"),
            Some(FhirPath::InstanceHistory("Patient"))
        );
        assert_eq!(
            c("/Patient/{logical_id}/_history/{resource_version}"),
            Some(FhirPath::Version("Patient"))
        );
        assert_eq!(
            c("/Patient/{id}/$meta-add"),
            Some(FhirPath::InstanceOperation("Patient", "meta-add"))
        );
        assert_eq!(c("/Patient/{id}/Observation"), None);
        assert_eq!(c("/patients"), None);
        assert_eq!(c("/Pat\"ient"), None);
        assert_eq!(c("/$\"); panic!(\""), None);
        assert_eq!(c("/Patient/{a}{b}"), None);
    }
}
