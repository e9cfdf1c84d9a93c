use super::*;
use crate::{
    GenericParam, HttpMethod, ParamLocation, Resource, Security, SimpleType, SystemCapabilities,
};

fn param(name: &str) -> SearchParam {
    // Through serde, so that fields with defaults added later need no change here.
    let json = serde_json::json!({"name": name, "rust_name": "", "type": "token", "range": false});
    serde_json::from_value(json).unwrap()
}

fn op(name: &str) -> Operation {
    Operation {
        name: name.into(),
        rust_name: String::new(),
        definition: None,
        documentation: None,
    }
}

fn connector(resources: Vec<Resource>) -> Connector {
    // Through serde, so that fields with defaults added later need no change here.
    let json = serde_json::json!({
        "name": "t",
        "fhir_version": "4.0.1",
        "formats": [],
        "patch_formats": [],
        "security": Security::default(),
        "system": SystemCapabilities::default(),
        "resources": [],
    });
    let mut c: Connector = serde_json::from_value(json).unwrap();
    c.resources = resources;
    c
}

fn generic(operation_id: Option<&str>, path: &str) -> GenericOperation {
    GenericOperation {
        method: HttpMethod::Get,
        path: path.into(),
        server_url: None,
        rust_name: String::new(),
        operation_id: operation_id.map(Into::into),
        summary: None,
        documentation: None,
        params: vec![],
        request_body: None,
        response_body: None,
        deprecated: false,
    }
}

fn rust_names<T>(items: &[T], f: impl Fn(&T) -> &str) -> Vec<&str> {
    items.iter().map(f).collect()
}

#[test]
fn operations_that_shadow_an_interaction_get_an_operation_suffix() {
    let mut r = Resource::new("ChargeItem");
    r.operations = vec![op("create"), op("everything"), op("create-operation")];
    let mut c = connector(vec![r]);
    c.system.operations = vec![op("batch"), op("charge-item"), op("export")];
    assign(&mut c);
    let r = &c.resources[0];
    assert_eq!(
        rust_names(&r.operations, |o| &o.rust_name),
        ["create_operation", "everything", "create_operation_2"]
    );
    // System operations are Client methods: they avoid its methods and the accessors.
    assert_eq!(
        rust_names(&c.system.operations, |o| &o.rust_name),
        ["batch_operation", "charge_item_operation", "export"]
    );
    assert_eq!(check(&c), Ok(()));
}

fn op_defined(name: &str, definition: &str) -> Operation {
    Operation {
        definition: Some(definition.into()),
        ..op(name)
    }
}

#[test]
fn export_entry_points_are_named_export_first() {
    // Epic: `$group-export` on Group is the export entry point, named `export`; an operation
    // that would also become `export` is the one with a suffix, whatever the order.
    let mut group = Resource::new("Group");
    group.operations = vec![
        op("export_"),
        op_defined(
            "group-export",
            "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/group-export",
        ),
    ];
    // Cerner: `$export` beside another operation on Patient.
    let mut patient = Resource::new("Patient");
    patient.operations = vec![op("health-cards-issue"), op("export")];
    // Not an entry point on Observation: named like any operation.
    let mut obs = Resource::new("Observation");
    obs.operations = vec![op("group-export")];
    let mut c = connector(vec![group, patient, obs]);
    c.system.operations = vec![op("export-poll-status"), op("export")];
    assign(&mut c);
    let ops = |i: usize| rust_names(&c.resources[i].operations, |o| &o.rust_name);
    assert_eq!(ops(0), ["export_2", "export"]);
    assert_eq!(ops(1), ["health_cards_issue", "export"]);
    assert_eq!(ops(2), ["group_export"]);
    assert_eq!(
        rust_names(&c.system.operations, |o| &o.rust_name),
        ["export_poll_status", "export"]
    );
    assert_eq!(check(&c), Ok(()));
}

#[test]
fn a_system_export_avoids_an_accessor_called_export() {
    // A resource type whose accessor is `export` keeps it; the system export entry point gets
    // the `_operation` suffix any operation gets for a taken client name.
    let mut c = connector(vec![Resource::new("Export")]);
    c.system.operations = vec![op("export")];
    assign(&mut c);
    assert_eq!(c.resources[0].rust_name, "export");
    assert_eq!(c.system.operations[0].rust_name, "export_operation");
    assert_eq!(check(&c), Ok(()));
}

#[test]
fn result_parameters_are_named_after_their_builder_method() {
    let mut r = Resource::new("Patient");
    r.search_params = [
        "_count",
        "count",
        "_contained",
        "_maxresults",
        "_revinclude",
        "send",
    ]
    .into_iter()
    .map(param)
    .collect();
    let mut c = connector(vec![r]);
    assign(&mut c);
    assert_eq!(
        rust_names(&c.resources[0].search_params, |p| &p.rust_name),
        [
            "count",
            "count_2",
            "contained",
            "maxresults",
            "rev_include",
            "send_2"
        ]
    );
    assert_eq!(check(&c), Ok(()));
}

#[test]
fn inherited_system_parameters_keep_their_name() {
    let mut patient = Resource::new("Patient");
    patient.search_params = vec![param("ah_practice"), param("name")];
    let mut obs = Resource::new("Observation");
    // Declares the system parameter itself: no inheritance, so no conflict.
    obs.search_params = vec![param("ah-practice"), param("code")];
    let mut c = connector(vec![patient, obs]);
    c.system.search_params = vec![param("ah-practice")];
    assign(&mut c);
    assert_eq!(c.system.search_params[0].rust_name, "ah_practice");
    assert_eq!(
        rust_names(&c.resources[0].search_params, |p| &p.rust_name),
        ["ah_practice_2", "name"]
    );
    assert_eq!(
        rust_names(&c.resources[1].search_params, |p| &p.rust_name),
        ["ah_practice", "code"]
    );
    assert_eq!(check(&c), Ok(()));
    // Patient's own `ah_practice` may not take the name Patient inherits from the system.
    c.resources[0].search_params[0].rust_name = "ah_practice".into();
    let err = check(&c).unwrap_err();
    assert!(err.to_string().contains("inherited"), "{err}");
}

#[test]
fn resources_get_free_accessors() {
    let c0 = ["Patient", "Self", "Runtime", "Client", "patient"];
    let mut c = connector(c0.into_iter().map(Resource::new).collect());
    assign(&mut c);
    assert_eq!(
        rust_names(&c.resources, |r| &r.rust_name),
        ["patient_2", "self_", "runtime_2", "client", "patient"]
    );
    assert_eq!(check(&c), Ok(()));
}

#[test]
fn generic_operations_are_named_from_operation_id_or_method_and_path() {
    let mut c = connector(vec![Resource::new("Patient")]);
    let mut with_params = generic(None, "/api/patient/{puuid}/allergy");
    with_params.params = ["puuid", "body", "Body", "options"]
        .into_iter()
        .map(|n| GenericParam {
            name: n.into(),
            rust_name: String::new(),
            location: ParamLocation::Query,
            required: false,
            value_type: SimpleType::String,
            list: None,
            documentation: None,
        })
        .collect();
    c.generic_operations = vec![
        with_params,
        generic(Some("new"), "/a"),
        generic(Some("patient"), "/b"),
        generic(Some("listPatientIDs"), "/c"),
        generic(Some("x"), "/d"),
        generic(Some("x"), "/e"),
    ];
    assign(&mut c);
    assert_eq!(
        rust_names(&c.generic_operations, |o| &o.rust_name),
        [
            "get_api_patient_by_puuid_allergy",
            "new_2",
            "patient_2",
            "list_patient_ids",
            "x",
            "x_2"
        ]
    );
    assert_eq!(
        rust_names(&c.generic_operations[0].params, |p| &p.rust_name),
        ["puuid", "body_2", "body_3", "options_2"]
    );
    assert_eq!(check(&c), Ok(()));
}

#[test]
fn assign_is_idempotent() {
    let mut r = Resource::new("Patient");
    r.search_params = ["general-practitioner", "general_practitioner", "_count"]
        .into_iter()
        .map(param)
        .collect();
    r.operations = vec![op("create"), op("match")];
    let mut c = connector(vec![r]);
    assign(&mut c);
    let once = c.clone();
    assign(&mut c);
    assert_eq!(c, once);
}

#[test]
fn check_refuses_hostile_reserved_and_duplicate_names() {
    let mut base = connector(vec![Resource::new("Patient")]);
    base.resources[0].search_params = vec![param("birthdate"), param("name")];
    base.resources[0].operations = vec![op("everything")];
    assign(&mut base);
    assert_eq!(check(&base), Ok(()));

    /// Breaks one name of a valid model.
    type Corrupt = fn(&mut Connector);
    let cases: Vec<(Corrupt, &str)> = vec![
        (
            |c| c.resources[0].rust_name = "patient() {} fn evil".into(),
            "not a plain",
        ),
        (|c| c.resources[0].rust_name = "runtime".into(), "reserved"),
        (
            |c| c.resources[0].search_params[1].rust_name = "birthdate".into(),
            "taken",
        ),
        (
            |c| c.resources[0].search_params[0].rust_name = "send".into(),
            "reserved",
        ),
        (
            |c| c.resources[0].search_params[0].rust_name = String::new(),
            "not a plain",
        ),
        (
            |c| c.resources[0].search_params[0].rust_name = "type".into(),
            "not a plain",
        ),
        (
            |c| c.resources[0].operations[0].rust_name = "read".into(),
            "reserved",
        ),
    ];
    for (corrupt, problem) in cases {
        let mut c = base.clone();
        corrupt(&mut c);
        let err = check(&c).unwrap_err();
        assert!(err.to_string().contains(problem), "{err}");
        assert!(err.to_string().contains("names::assign"), "{err}");
        assign(&mut c);
        assert_eq!(check(&c), Ok(()));
    }
}

/// Issue 10: 300,000 operations called `x` (an OpenAPI document with one operationId repeated)
/// used to take quadratic time. The names must be unique, deterministic and numbered in order.
#[test]
fn three_hundred_thousand_colliding_names_are_unique_and_deterministic() {
    const N: usize = 300_000;
    let mut c = connector(vec![]);
    c.generic_operations = (0..N).map(|_| generic(Some("x"), "/x")).collect();
    assign(&mut c);
    let names: Vec<&str> = rust_names(&c.generic_operations, |o| &o.rust_name);
    assert_eq!(names[0], "x");
    assert_eq!(names[1], "x_2");
    assert_eq!(names[N - 1], format!("x_{N}"));
    let unique: HashSet<&str> = names.iter().copied().collect();
    assert_eq!(unique.len(), N);
    let mut again = c.clone();
    assign(&mut again);
    assert_eq!(again, c);
    assert_eq!(check(&c), Ok(()));

    // The same for search parameters whose wire names all sanitize to one identifier.
    let mut r = Resource::new("Patient");
    r.search_params = (0..N)
        .map(|i| param(["a-b", "a_b", "A-B"][i % 3]))
        .collect();
    let mut c = connector(vec![r]);
    assign(&mut c);
    let names: HashSet<&str> = rust_names(&c.resources[0].search_params, |p| &p.rust_name)
        .into_iter()
        .collect();
    assert_eq!(names.len(), N);
    // `a_b` is the exact wire form: it claims the plain name first.
    assert_eq!(c.resources[0].search_params[1].rust_name, "a_b");
    assert_eq!(check(&c), Ok(()));
}
