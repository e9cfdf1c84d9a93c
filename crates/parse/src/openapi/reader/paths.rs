//! Paths: the walk over `paths`, parameters merged per operation, FHIR-shaped paths to
//! resources, interactions, search parameters and operations.

use super::*;

impl<'a> Reader<'a> {
    pub(super) fn read_path(&mut self, path: &'a str, item: &'a Value, base: Option<&str>) {
        let pointer = format!("/paths/{}", escape(path));
        let Some((item, item_ptr)) = self.deref(item, &pointer) else {
            return;
        };
        let Some(item_map) = item.as_object() else {
            self.warn(pointer, "path item is not an object; skipped");
            return;
        };
        let mut fhir_path = base.and_then(|b| {
            let segs = fhir::segments(path);
            let base_segs = fhir::segments(b);
            segs.starts_with(&base_segs)
                .then(|| fhir::classify(&segs[base_segs.len()..]))
                .flatten()
        });
        if fhir_path.is_none() && self.instance_paths {
            // `/Observation{id}`: the slash is missing, but the document's other instance paths
            // say what was meant. Read as `/Observation/{id}` rather than as a generic route
            // that would request `/Observation123`.
            let repaired = base.and_then(|b| {
                let segs = fhir::segments(path);
                let base_segs = fhir::segments(b);
                let rel = segs
                    .get(base_segs.len()..)
                    .filter(|_| segs.starts_with(&base_segs))?;
                fhir::classify(&fhir::repair_missing_slash(rel)?)
            });
            if let Some(fp) = repaired {
                self.warn(
                    pointer.clone(),
                    format!(
                        "path {} lacks the slash between resource type and id; read as the FHIR \
                         path the document's other instance paths use",
                        shown(path)
                    ),
                );
                fhir_path = Some(fp);
            }
        }
        for (key, op) in item_map {
            let Some(method) = HttpMethod::from_name(key) else {
                if !matches!(
                    key.as_str(),
                    "parameters" | "summary" | "description" | "servers" | "$ref"
                ) && !key.starts_with("x-")
                {
                    self.warn(
                        format!("{item_ptr}/{}", escape(key)),
                        format!("unknown path item key {}; ignored", shown(key)),
                    );
                }
                continue;
            };
            if key != &key.to_ascii_lowercase() {
                self.warn(
                    format!("{item_ptr}/{}", escape(key)),
                    format!("method {} should be lower case; read anyway", shown(key)),
                );
            }
            let op_ptr = format!("{item_ptr}/{}", escape(key));
            let Some(op) = op.as_object() else {
                self.warn(op_ptr, "operation is not an object; skipped");
                continue;
            };
            self.check_requirements(op.get("security"), &format!("{op_ptr}/security"));
            let params = self.params(item_map, &item_ptr, op, &op_ptr);
            if let Some(fp) = &fhir_path {
                self.read_fhir(fp, path, method, op, &op_ptr, &params);
            } else {
                if base.is_some_and(|b| {
                    let base_segs = fhir::segments(b);
                    fhir::segments(path).starts_with(&base_segs) && !base_segs.is_empty()
                }) {
                    self.warn(
                        op_ptr.clone(),
                        "under the FHIR base but not a FHIR interaction; read as a generic operation",
                    );
                }
                self.read_generic(path, method, item_map, &item_ptr, op, &op_ptr, params);
            }
        }
    }

    /// Path-level parameters merged with the operation's (the operation's win by name and
    /// location), `$ref`s followed, invalid ones warned about and dropped.
    pub(super) fn params(
        &mut self,
        item: &'a Map<String, Value>,
        item_ptr: &str,
        op: &'a Map<String, Value>,
        op_ptr: &str,
    ) -> Vec<RawParam<'a>> {
        let mut out: Vec<RawParam<'a>> = Vec::new();
        // (name, location) -> index in `out`: the operation's declaration replaces the path's.
        let mut index: HashMap<(String, String), usize> = HashMap::new();
        for (list, ptr) in [
            (item.get("parameters"), item_ptr),
            (op.get("parameters"), op_ptr),
        ] {
            let Some(list) = list else { continue };
            let Some(list) = list.as_array() else {
                self.warn(
                    format!("{ptr}/parameters"),
                    "`parameters` is not a list; ignored",
                );
                continue;
            };
            if list.len() > MAX_PARAMS {
                self.warn(
                    format!("{ptr}/parameters"),
                    format!(
                        "{} parameters; only the first {MAX_PARAMS} are read",
                        list.len()
                    ),
                );
            }
            for (i, p) in list.iter().take(MAX_PARAMS).enumerate() {
                let p_ptr = format!("{ptr}/parameters/{i}");
                let Some((p, _)) = self.deref(p, &p_ptr) else {
                    continue;
                };
                let (Some(name), Some(location)) = (
                    p.get("name").and_then(Value::as_str),
                    p.get("in").and_then(Value::as_str),
                ) else {
                    self.warn(p_ptr, "parameter without `name` or `in`; skipped");
                    continue;
                };
                let schema = match self.version {
                    SpecVersion::Swagger2 => Some(p),
                    // A parameter with `content` instead of `schema` is a serialized value: it
                    // has no schema here and reads as a string.
                    _ => p.get("schema"),
                };
                let raw = RawParam {
                    name: name.to_owned(),
                    location: location.to_owned(),
                    required: p.get("required").and_then(Value::as_bool).unwrap_or(false),
                    description: self.docs(p.get("description")),
                    schema,
                    style: p
                        .get("style")
                        .or_else(|| p.get("collectionFormat"))
                        .and_then(Value::as_str)
                        .map(str::to_owned),
                    explode: p.get("explode").and_then(Value::as_bool),
                    pointer: p_ptr,
                };
                match index.get(&(raw.name.clone(), raw.location.clone())) {
                    Some(&i) => out[i] = raw,
                    None => {
                        index.insert((raw.name.clone(), raw.location.clone()), out.len());
                        out.push(raw);
                    }
                }
            }
        }
        out
    }

    // ---------------------------------------------------------------------------------------
    // FHIR paths

    pub(super) fn read_fhir(
        &mut self,
        fp: &FhirPath<'a>,
        path: &str,
        method: HttpMethod,
        op: &'a Map<String, Value>,
        op_ptr: &str,
        params: &[RawParam<'a>],
    ) {
        use HttpMethod::{Delete, Get, Patch, Post, Put};
        use ResourceInteraction as I;
        self.collect_formats(method, op, op_ptr);
        let docs = self
            .docs(op.get("summary"))
            .or_else(|| self.docs(op.get("description")));
        let unexpected = |r: &mut Self| {
            r.warn(
                op_ptr.to_owned(),
                format!(
                    "{} {} is not a FHIR interaction; ignored",
                    method.as_str(),
                    shown(path)
                ),
            );
        };
        match (fp, method) {
            (FhirPath::Root, Post) => {
                let words = [
                    op.get("summary"),
                    op.get("description"),
                    op.get("operationId"),
                ]
                .into_iter()
                .filter_map(|v| v.and_then(Value::as_str))
                .collect::<Vec<_>>()
                .join(" ")
                .to_ascii_lowercase();
                let batch = words.contains("batch");
                let transaction = words.contains("transaction");
                if batch || !transaction {
                    self.system.interactions.push(SystemInteraction::Batch);
                }
                if transaction || !batch {
                    self.system
                        .interactions
                        .push(SystemInteraction::Transaction);
                }
                if !batch && !transaction {
                    self.warn(
                        op_ptr.to_owned(),
                        "POST [base] does not say batch or transaction; both recorded",
                    );
                }
            }
            (FhirPath::Root | FhirPath::SystemSearch, Get | Post) => {
                self.system
                    .interactions
                    .push(SystemInteraction::SearchSystem);
            }
            (FhirPath::SystemHistory, Get) => {
                self.system
                    .interactions
                    .push(SystemInteraction::HistorySystem);
            }
            (FhirPath::Metadata, Get) => {}
            (FhirPath::SmartConfiguration, Get) => {
                if self.smart_configuration_url.is_none() {
                    self.smart_configuration_url =
                        Some(self.against_server(path.trim_start_matches('/')));
                }
            }
            (FhirPath::SystemOperation(name), _) => {
                push_operation(&mut self.system_ops, name, docs);
            }
            (FhirPath::Type(t), Get) | (FhirPath::TypeSearch(t), Get | Post) => {
                let acc = self.resource(t, op_ptr);
                push_unique(&mut acc.interactions, I::SearchType);
                let mut names: Vec<(String, Option<String>, String)> = params
                    .iter()
                    .filter(|p| p.location == "query" || p.location == "formData")
                    .map(|p| (p.name.clone(), p.description.clone(), p.pointer.clone()))
                    .collect();
                if method == Post {
                    names.extend(self.form_fields(op, op_ptr));
                }
                for (name, doc, ptr) in names {
                    if FORMAT_PARAMETERS.contains(&name.as_str()) {
                        continue;
                    }
                    if let Some((base, modifier)) = split_modifier(&name) {
                        let pending = PendingModifier {
                            base: base.to_owned(),
                            modifier: modifier.to_owned(),
                            pointer: ptr,
                        };
                        self.resource(t, op_ptr).modifiers.push(pending);
                        continue;
                    }
                    if !crate::capability::valid_param_name(&name) {
                        self.warn(
                            ptr,
                            format!(
                                "{} is not a valid search parameter name; skipped",
                                shown(&name)
                            ),
                        );
                        continue;
                    }
                    if self.params_kept >= MAX_TOTAL_PARAMS {
                        continue;
                    }
                    let acc = self.resource(t, op_ptr);
                    if acc.params.len() < MAX_ITEMS && acc.param_names.insert(name.clone()) {
                        acc.params.push((name, doc, ptr));
                        self.params_kept += 1;
                    }
                }
            }
            (FhirPath::Type(t), Post) => {
                let conditional = params.iter().any(|p| {
                    p.location == "header" && p.name.eq_ignore_ascii_case("If-None-Exist")
                });
                let acc = self.resource(t, op_ptr);
                push_unique(&mut acc.interactions, I::Create);
                acc.conditional_create |= conditional;
            }
            (FhirPath::Type(t), Put) => self.resource(t, op_ptr).conditional_update = true,
            (FhirPath::Type(t), Delete) => self.resource(t, op_ptr).conditional_delete = true,
            (FhirPath::TypeHistory(t), Get) => {
                push_unique(&mut self.resource(t, op_ptr).interactions, I::HistoryType)
            }
            (FhirPath::Instance(t), Get) => {
                push_unique(&mut self.resource(t, op_ptr).interactions, I::Read)
            }
            (FhirPath::Instance(t), Put) => {
                push_unique(&mut self.resource(t, op_ptr).interactions, I::Update)
            }
            (FhirPath::Instance(t), Patch) => {
                push_unique(&mut self.resource(t, op_ptr).interactions, I::Patch)
            }
            (FhirPath::Instance(t), Delete) => {
                push_unique(&mut self.resource(t, op_ptr).interactions, I::Delete)
            }
            (FhirPath::InstanceHistory(t), Get) => {
                push_unique(
                    &mut self.resource(t, op_ptr).interactions,
                    I::HistoryInstance,
                );
            }
            (FhirPath::Version(t), Get) => {
                push_unique(&mut self.resource(t, op_ptr).interactions, I::Vread)
            }
            (FhirPath::TypeOperation(t, name) | FhirPath::InstanceOperation(t, name), _) => {
                let acc = self.resource(t, op_ptr);
                push_operation(&mut acc.operations, name, docs);
            }
            _ => unexpected(self),
        }
    }

    /// The accumulator for resource type `t`, warning once when it is not an R4 type.
    pub(super) fn resource(&mut self, t: &str, pointer: &str) -> &mut ResourceAcc {
        if !self.resources.contains_key(t) && !fhir::is_r4_type(t) {
            self.warn(
                pointer,
                format!(
                    "{} is not an R4 resource type; read as one anyway",
                    shown(t)
                ),
            );
        }
        self.resources.entry(t.to_owned()).or_default()
    }

    /// The field names of a form-encoded request body (`POST [type]/_search`).
    pub(super) fn form_fields(
        &mut self,
        op: &'a Map<String, Value>,
        op_ptr: &str,
    ) -> Vec<(String, Option<String>, String)> {
        let Some(body) = op.get("requestBody") else {
            return Vec::new();
        };
        let body_ptr = format!("{op_ptr}/requestBody");
        let Some((body, body_ptr)) = self.deref(body, &body_ptr) else {
            return Vec::new();
        };
        let Some(content) = body.get("content").and_then(Value::as_object) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for (media, entry) in content {
            if !media.starts_with("application/x-www-form-urlencoded")
                && !media.starts_with("multipart/form-data")
            {
                continue;
            }
            let schema_ptr = format!("{body_ptr}/content/{}/schema", escape(media));
            let Some(schema) = entry.get("schema") else {
                continue;
            };
            let Some((schema, schema_ptr)) = self.deref(schema, &schema_ptr) else {
                continue;
            };
            if let Some(props) = schema.get("properties").and_then(Value::as_object) {
                for (name, prop) in props {
                    out.push((
                        name.clone(),
                        self.docs(prop.get("description")),
                        format!("{schema_ptr}/properties/{}", escape(name)),
                    ));
                }
            }
        }
        out
    }

    /// Media types of FHIR requests and responses become `formats` (`patch_formats` for PATCH
    /// request bodies).
    pub(super) fn collect_formats(
        &mut self,
        method: HttpMethod,
        op: &'a Map<String, Value>,
        op_ptr: &str,
    ) {
        let mut found: Vec<(String, bool)> = Vec::new();
        match self.version {
            SpecVersion::Swagger2 => {
                for key in ["produces", "consumes"] {
                    let list = op.get(key).or_else(|| self.root.get(key));
                    for m in list
                        .and_then(Value::as_array)
                        .into_iter()
                        .flatten()
                        .take(MAX_PER_OPERATION)
                        .filter_map(Value::as_str)
                    {
                        found.push((
                            m.to_owned(),
                            key == "consumes" && method == HttpMethod::Patch,
                        ));
                    }
                }
            }
            _ => {
                if let Some(body) = op.get("requestBody") {
                    if let Some((body, _)) = self.deref(body, &format!("{op_ptr}/requestBody")) {
                        for m in body
                            .get("content")
                            .and_then(Value::as_object)
                            .into_iter()
                            .flat_map(|c| c.keys().take(MAX_PER_OPERATION))
                        {
                            found.push((m.clone(), method == HttpMethod::Patch));
                        }
                    }
                }
                if let Some(responses) = op.get("responses").and_then(Value::as_object) {
                    for (code, resp) in responses.iter().take(MAX_PER_OPERATION) {
                        if !code.starts_with('2') {
                            continue;
                        }
                        let ptr = format!("{op_ptr}/responses/{}", escape(code));
                        if let Some((resp, _)) = self.deref(resp, &ptr) {
                            for m in resp
                                .get("content")
                                .and_then(Value::as_object)
                                .into_iter()
                                .flat_map(|c| c.keys().take(MAX_PER_OPERATION))
                            {
                                found.push((m.clone(), false));
                            }
                        }
                    }
                }
            }
        }
        for (media, patch) in found {
            if !valid_media_type(&media) {
                continue;
            }
            if patch {
                self.patch_formats.push(media);
            } else if media != "application/x-www-form-urlencoded"
                && !media.starts_with("multipart/")
            {
                self.formats.push(media);
            }
        }
    }

    /// Resources with their interactions in canonical order and typed, named search parameters.
    pub(super) fn finish_resources(&mut self) -> Vec<Resource> {
        let accs = std::mem::take(&mut self.resources);
        let mut out = Vec::new();
        for (t, mut acc) in accs {
            let mut r = Resource::new(t.clone());
            acc.interactions.sort();
            r.interactions = acc.interactions;
            if acc.conditional_update {
                r.conditional_update = Some(true);
            }
            if acc.conditional_delete {
                // OpenAPI cannot say whether several matches may be deleted; one is the safe claim.
                r.conditional_delete = Some(ConditionalDelete::Single);
            }
            if acc.conditional_create {
                r.conditional_create = Some(true);
            }
            let mut params: Vec<SearchParam> = Vec::new();
            for (name, doc, ptr) in acc.params {
                params.push(self.search_param(&t, name, doc, &ptr));
            }
            let mut warnings = Vec::new();
            fold_modifiers(&mut params, acc.modifiers, |p, m| warnings.push((p, m)));
            for (p, m) in warnings {
                self.warn(p, m);
            }
            r.search_params = params;
            r.operations = acc.operations.into_vec();
            out.push(r);
        }
        out
    }

    /// Types one search parameter: the CapabilityStatement given alongside, else the FHIR core
    /// definition for (type, name), else the common-parameter table, else `string`.
    pub(super) fn search_param(
        &mut self,
        t: &str,
        name: String,
        doc: Option<String>,
        ptr: &str,
    ) -> SearchParam {
        let declared = self
            .options
            .capability
            .and_then(|c| c.resource(t))
            .and_then(|r| r.search_param(&name))
            .or_else(|| {
                self.options
                    .capability
                    .and_then(|c| c.system.search_params.iter().find(|p| p.name == name))
            });
        let core = crate::core_params::lookup(t, &name);
        let mut from_core = false;
        let (param_type, mut definition, mut documentation) = if let Some(d) = declared {
            (
                d.param_type.clone(),
                d.definition.clone(),
                doc.or_else(|| d.documentation.clone()),
            )
        } else if let Some(c) = core {
            (SearchParamType::from(c.param_type.clone()), None, doc)
        } else if let Some((_, code)) = COMMON_PARAMETER_TYPES.iter().find(|(n, _)| *n == name) {
            (SearchParamType::from((*code).to_owned()), None, doc)
        } else {
            self.warn(
                ptr.to_owned(),
                format!(
                    "search parameter {} of {t} has no CapabilityStatement or FHIR core definition; typed string",
                    shown(&name)
                ),
            );
            (SearchParamType::String, None, doc)
        };
        if let Some(c) = core.filter(|c| c.param_type == param_type.code()) {
            if definition.is_none() {
                definition = Some(c.url.clone());
                from_core = true;
            }
            if documentation.is_none() && !c.description.is_empty() {
                documentation = Some(c.description.clone());
                from_core = true;
            }
        }
        SearchParam {
            range: SearchParam::range_applies(&name, &param_type),
            rust_name: String::new(),
            name,
            param_type,
            documentation,
            definition,
            from_core,
            modifiers: Vec::new(),
        }
    }

    pub(super) fn fhir_version(
        &mut self,
        base: Option<&str>,
        title: Option<&str>,
    ) -> (String, Option<FhirRelease>) {
        if let Some(c) = self.options.capability {
            return (c.fhir_version.clone(), c.fhir_release);
        }
        let hints = base.unwrap_or_default().to_ascii_lowercase()
            + " "
            + &title.unwrap_or_default().to_ascii_lowercase();
        let words: Vec<&str> = hints.split(|c: char| !c.is_ascii_alphanumeric()).collect();
        for (word, version) in [
            ("dstu2", "1.0.2"),
            ("stu3", "3.0.2"),
            ("r4b", "4.3.0"),
            ("r4", "4.0.1"),
            ("r5", "5.0.0"),
        ] {
            if words.contains(&word) {
                return (version.to_owned(), FhirRelease::from_version(version));
            }
        }
        if self.resources.is_empty()
            && self.system_ops.is_empty()
            && self.system.interactions.is_empty()
        {
            return (String::new(), None);
        }
        self.warn(
            "",
            "the document does not say which FHIR version it serves; R4 (4.0.1) assumed",
        );
        ("4.0.1".to_owned(), Some(FhirRelease::R4))
    }
}

/// Records operation `name` (documentation from its first declaration that has some).
pub(super) fn push_operation(ops: &mut Named<Operation>, name: &str, docs: Option<String>) {
    match ops.get_mut(name) {
        Some(existing) => {
            if existing.documentation.is_none() {
                existing.documentation = docs;
            }
        }
        None => {
            // Full: the operation is dropped; the path cap keeps this from happening in practice.
            ops.insert(Operation {
                name: name.to_owned(),
                rust_name: String::new(),
                definition: None,
                documentation: docs,
            });
        }
    }
}
