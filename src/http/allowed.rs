//! Which methods a path takes, read from the OpenAPI document: a request whose path exists with
//! other methods is answered 405 with `Allow`, as clients and proxies expect, not 404.

/// One segment of a path template: literal text, or a parameter with an optional literal suffix
/// (`{connection_id}.vcf`).
enum Segment {
    Literal(String),
    Parameter { suffix: String },
}

impl Segment {
    fn matches(&self, segment: &str) -> bool {
        match self {
            Self::Literal(text) => text == segment,
            Self::Parameter { suffix } => {
                segment.len() > suffix.len() && segment.ends_with(suffix.as_str())
            }
        }
    }
}

/// The documented paths with their methods.
pub struct Routes(Vec<(Vec<Segment>, Vec<&'static str>)>);

impl Routes {
    pub fn from_document(api: &utoipa::openapi::OpenApi) -> Self {
        let routes = api
            .paths
            .paths
            .iter()
            .map(|(template, item)| {
                let segments = template
                    .trim_start_matches('/')
                    .split('/')
                    .map(|segment| {
                        match segment.strip_prefix('{').and_then(|s| s.split_once('}')) {
                            Some((_, suffix)) => Segment::Parameter { suffix: suffix.to_owned() },
                            None => Segment::Literal(segment.to_owned()),
                        }
                    })
                    .collect();
                let methods = [
                    ("GET", item.get.is_some()),
                    ("POST", item.post.is_some()),
                    ("PUT", item.put.is_some()),
                    ("PATCH", item.patch.is_some()),
                    ("DELETE", item.delete.is_some()),
                ]
                .into_iter()
                .filter_map(|(method, present)| present.then_some(method))
                .collect();
                (segments, methods)
            })
            .collect();
        Self(routes)
    }

    /// The methods `path` takes, in a stable order; empty when no documented path matches.
    pub fn methods(&self, path: &str) -> Vec<&'static str> {
        let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        let mut methods = Vec::new();
        for (template, allowed) in &self.0 {
            if template.len() == segments.len()
                && template.iter().zip(&segments).all(|(t, s)| t.matches(s))
            {
                for method in allowed {
                    if !methods.contains(method) {
                        methods.push(*method);
                    }
                }
            }
        }
        let order = ["GET", "POST", "PUT", "PATCH", "DELETE"];
        methods.sort_by_key(|m| order.iter().position(|o| o == m));
        methods
    }
}
