//! Generic (non-FHIR) operations: method, path template, parameters, bodies.

use super::*;

impl<'a> Reader<'a> {
    #[allow(
        clippy::too_many_arguments,
        reason = "one call site; the pieces come from the walk"
    )]
    pub(super) fn read_generic(
        &mut self,
        path: &str,
        method: HttpMethod,
        item: &'a Map<String, Value>,
        item_ptr: &str,
        op: &'a Map<String, Value>,
        op_ptr: &str,
        params: Vec<RawParam<'a>>,
    ) {
        if !valid_path_template(path) {
            self.warn(
                op_ptr.to_owned(),
                format!(
                    "path {} cannot be used as a URL template; skipped",
                    shown(path)
                ),
            );
            return;
        }
        if self.generic.len() >= MAX_ITEMS {
            self.warn(
                op_ptr.to_owned(),
                format!("more than {MAX_ITEMS} generic operations; skipped"),
            );
            return;
        }
        if self.params_kept + params.len() > MAX_TOTAL_PARAMS {
            self.warn(
                op_ptr.to_owned(),
                format!(
                    "more than {MAX_TOTAL_PARAMS} parameters in the document; operation skipped"
                ),
            );
            return;
        }
        self.params_kept += params.len();
        let server_url = match self.version {
            SpecVersion::Swagger2 => self.server_url.clone(),
            _ => {
                let own = op
                    .get("servers")
                    .map(|s| (s, format!("{op_ptr}/servers")))
                    .or_else(|| {
                        item.get("servers")
                            .map(|s| (s, format!("{item_ptr}/servers")))
                    });
                match own {
                    Some((servers, ptr)) => self
                        .server_from(Some(servers), &ptr)
                        .or_else(|| self.server_url.clone()),
                    None => self.server_url.clone(),
                }
            }
        };
        // Kept for documentation, minus control characters; the Rust name is sanitized apart.
        let operation_id = self.docs(op.get("operationId"));
        let mut out_params: Vec<GenericParam> = Vec::new();
        let mut request_body = None;
        let mut form = false;
        for p in &params {
            let location = match p.location.as_str() {
                "path" => ParamLocation::Path,
                "query" => ParamLocation::Query,
                "header" => ParamLocation::Header,
                "body" => {
                    request_body = Some(GenericBody {
                        media_type: self.swagger_media(op, "consumes"),
                        required: p.required,
                    });
                    continue;
                }
                "formData" => {
                    form = true;
                    continue;
                }
                other => {
                    self.warn(
                        p.pointer.clone(),
                        format!(
                            "{} parameter {} is not supported; skipped",
                            shown(other),
                            shown(&p.name)
                        ),
                    );
                    continue;
                }
            };
            let valid = match location {
                ParamLocation::Header => valid_header_name(&p.name),
                _ => valid_query_name(&p.name),
            };
            if !valid {
                self.warn(
                    p.pointer.clone(),
                    format!("{} is not a usable parameter name; skipped", shown(&p.name)),
                );
                continue;
            }
            if location == ParamLocation::Header
                && [
                    "authorization",
                    "accept",
                    "content-type",
                    "content-length",
                    "host",
                ]
                .contains(&p.name.to_ascii_lowercase().as_str())
            {
                // The runtime sets these itself (auth, JSON), so a parameter would fight it.
                continue;
            }
            let (value_type, list) = self.simple_type(p);
            out_params.push(GenericParam {
                name: p.name.clone(),
                rust_name: String::new(),
                location,
                required: p.required || location == ParamLocation::Path,
                value_type,
                list,
                documentation: p.description.clone(),
            });
        }
        if form && request_body.is_none() {
            let consumes = self.swagger_media(op, "consumes");
            let media = if consumes.starts_with("multipart/") {
                consumes
            } else {
                "application/x-www-form-urlencoded".to_owned()
            };
            request_body = Some(GenericBody {
                media_type: media,
                required: true,
            });
        }
        // Path parameters: exactly the template's variables, in template order.
        let vars = path_variables(path);
        let mut ordered: Vec<GenericParam> = Vec::new();
        // Declared path parameters by name (a map: a position search per variable was
        // quadratic for hostile paths with hundreds of variables).
        let mut declared: HashMap<String, (usize, GenericParam)> = HashMap::new();
        let mut others: Vec<(usize, GenericParam)> = Vec::new();
        for (i, p) in out_params.into_iter().enumerate() {
            if p.location == ParamLocation::Path && !declared.contains_key(&p.name) {
                declared.insert(p.name.clone(), (i, p));
            } else {
                others.push((i, p));
            }
        }
        for var in &vars {
            match declared.remove(*var) {
                Some((_, p)) => ordered.push(p),
                None => {
                    self.warn(
                        op_ptr.to_owned(),
                        format!(
                            "path variable {} is not declared; read as a required string",
                            shown(var)
                        ),
                    );
                    ordered.push(GenericParam {
                        name: (*var).to_owned(),
                        rust_name: String::new(),
                        location: ParamLocation::Path,
                        required: true,
                        value_type: SimpleType::String,
                        list: None,
                        documentation: None,
                    });
                }
            }
        }
        let mut rest: Vec<(usize, GenericParam)> = declared.into_values().chain(others).collect();
        // Back to declaration order (the map has none).
        rest.sort_by_key(|(i, _)| *i);
        for (_, p) in rest {
            if p.location == ParamLocation::Path {
                self.warn(
                    op_ptr.to_owned(),
                    format!(
                        "path parameter {} is not in the path; skipped",
                        shown(&p.name)
                    ),
                );
            } else {
                ordered.push(p);
            }
        }
        if self.version != SpecVersion::Swagger2 {
            if let Some(body) = op.get("requestBody") {
                request_body = self.request_body(body, &format!("{op_ptr}/requestBody"));
            }
        }
        let response_body = self.response_body(op, op_ptr);
        let op_out = GenericOperation {
            method,
            path: path.to_owned(),
            server_url,
            rust_name: String::new(),
            operation_id,
            summary: self.docs(op.get("summary")),
            documentation: self.docs(op.get("description")),
            params: ordered,
            request_body,
            response_body,
            deprecated: op
                .get("deprecated")
                .and_then(Value::as_bool)
                .unwrap_or(false),
        };
        self.generic.push(GenericAcc {
            op: op_out,
            pointer: op_ptr.to_owned(),
        });
    }

    /// A Swagger 2 media type from the operation's or the document's `consumes`/`produces`,
    /// a JSON one preferred; `application/json` when none is given.
    pub(super) fn swagger_media(&self, op: &Map<String, Value>, key: &str) -> String {
        let list: Vec<&str> = op
            .get(key)
            .or_else(|| self.root.get(key))
            .and_then(Value::as_array)
            .map(|l| {
                l.iter()
                    .take(MAX_PER_OPERATION)
                    .filter_map(Value::as_str)
                    .collect()
            })
            .unwrap_or_default();
        pick_media(list.iter().copied()).unwrap_or_else(|| "application/json".to_owned())
    }

    pub(super) fn request_body(&mut self, body: &'a Value, ptr: &str) -> Option<GenericBody> {
        let (body, _) = self.deref(body, ptr)?;
        let content = body.get("content")?.as_object()?;
        let media = pick_media(content.keys().take(MAX_PER_OPERATION).map(String::as_str))?;
        Some(GenericBody {
            media_type: media,
            required: body
                .get("required")
                .and_then(Value::as_bool)
                .unwrap_or(false),
        })
    }

    /// The body of the first 2xx response (lowest code first, `2XX` after the numbered ones).
    pub(super) fn response_body(
        &mut self,
        op: &'a Map<String, Value>,
        op_ptr: &str,
    ) -> Option<GenericBody> {
        let responses = op.get("responses")?.as_object()?;
        let mut codes: Vec<&String> = responses
            .keys()
            .take(MAX_PER_OPERATION)
            .filter(|c| c.starts_with('2'))
            .collect();
        codes.sort();
        for code in codes {
            let ptr = format!("{op_ptr}/responses/{}", escape(code));
            let Some((resp, _)) = self.deref(&responses[code.as_str()], &ptr) else {
                continue;
            };
            let media = match self.version {
                SpecVersion::Swagger2 => resp
                    .get("schema")
                    .map(|_| self.swagger_media(op, "produces")),
                _ => resp
                    .get("content")
                    .and_then(Value::as_object)
                    .and_then(|c| pick_media(c.keys().map(String::as_str))),
            };
            if let Some(media_type) = media {
                return Some(GenericBody {
                    media_type,
                    required: true,
                });
            }
            return None;
        }
        None
    }

    /// The simple type of a parameter, and its list style when it is an array.
    pub(super) fn simple_type(&mut self, p: &RawParam<'a>) -> (SimpleType, Option<ListStyle>) {
        let Some(schema) = p.schema else {
            return (SimpleType::String, None);
        };
        let Some((schema, _)) = self.deref(schema, &format!("{}/schema", p.pointer)) else {
            return (SimpleType::String, None);
        };
        let ty = type_name(schema);
        if ty.as_deref() != Some("array") {
            return (scalar(ty.as_deref()), None);
        }
        let items = schema.get("items").and_then(|i| {
            self.deref(i, &format!("{}/items", p.pointer))
                .map(|(v, _)| v)
        });
        let item_type = scalar(items.and_then(type_name).as_deref());
        let list = match (self.version, p.style.as_deref(), p.explode) {
            (SpecVersion::Swagger2, Some("multi"), _) => ListStyle::Repeated,
            (SpecVersion::Swagger2, None | Some("csv"), _) => ListStyle::CommaSeparated,
            (SpecVersion::Swagger2, Some(other), _) => {
                self.warn(
                    p.pointer.clone(),
                    format!(
                        "collectionFormat {} is not supported; values are comma-separated",
                        shown(other)
                    ),
                );
                ListStyle::CommaSeparated
            }
            (_, None | Some("form"), explode) => {
                if explode.unwrap_or(true) {
                    ListStyle::Repeated
                } else {
                    ListStyle::CommaSeparated
                }
            }
            (_, Some("simple"), _) => ListStyle::CommaSeparated,
            (_, Some(other), _) => {
                self.warn(
                    p.pointer.clone(),
                    format!(
                        "parameter style {} is not supported; values are comma-separated",
                        shown(other)
                    ),
                );
                ListStyle::CommaSeparated
            }
        };
        (item_type, Some(list))
    }

    /// The generic operations in document order, warning about duplicate `operationId`s (the
    /// model's naming pass numbers them).
    pub(super) fn finish_generic(&mut self) -> Vec<GenericOperation> {
        let accs = std::mem::take(&mut self.generic);
        // A hash set: `Vec::contains` per operation was quadratic in hostile documents.
        let mut seen: HashSet<&str> = HashSet::new();
        for acc in &accs {
            if let Some(id) = acc.op.operation_id.as_deref() {
                if !seen.insert(id) {
                    self.warn(
                        acc.pointer.clone(),
                        format!(
                            "duplicate operationId {}; the method gets a numbered name",
                            shown(id)
                        ),
                    );
                }
            }
        }
        accs.into_iter().map(|acc| acc.op).collect()
    }
}

/// A JSON media type when one is listed, else the first.
pub(super) fn pick_media<'m>(mut media: impl Iterator<Item = &'m str> + Clone) -> Option<String> {
    let is_json = |m: &&str| {
        let essence = m
            .split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase();
        essence == "application/json" || essence.ends_with("+json")
    };
    let pick = media.clone().find(is_json).or_else(|| media.next())?;
    valid_media_type(pick).then(|| pick.to_owned())
}

/// A schema's `type`: a string, or the first non-`null` entry of an OpenAPI 3.1 type array.
pub(super) fn type_name(schema: &Value) -> Option<String> {
    match schema.get("type")? {
        Value::String(s) => Some(s.clone()),
        Value::Array(types) => types
            .iter()
            .filter_map(Value::as_str)
            .find(|t| *t != "null")
            .map(str::to_owned),
        _ => None,
    }
}

pub(super) fn scalar(ty: Option<&str>) -> SimpleType {
    match ty {
        Some("integer") => SimpleType::Integer,
        Some("number") => SimpleType::Number,
        Some("boolean") => SimpleType::Boolean,
        _ => SimpleType::String,
    }
}
