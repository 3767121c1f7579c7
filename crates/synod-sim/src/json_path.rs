//! Where in a JSON text a decoding error happened, as a field path ("cluster.nodes",
//! "interventions[2]").
//!
//! serde_json reports a type error by line and column only. Scenario files and share links
//! are read twice anyway (first as a `Value`, so the version is looked at before the types),
//! so the text is known to be well-formed JSON by the time its typed decoding fails; a short
//! scan of the text up to the error's position then recovers the path of the value being read.
//! This does what a path-tracking deserializer wrapper would, without a second copy of every
//! `Deserialize` impl in the page's wasm (about 55 KB of it).

/// One open container while scanning.
enum Frame {
    /// An object and the key most recently read in it.
    Object(Option<String>),
    /// An array, the index of its current element, and whether that element has begun.
    Array { index: usize, begun: bool },
}

/// "at cluster.nodes: invalid type ...", or just the message for an error at the root,
/// without serde_json's " at line L column C", for an error decoding the well-formed JSON
/// `text` into a type.
pub(crate) fn describe(text: &[u8], e: &serde_json::Error) -> String {
    let whole = e.to_string();
    let suffix = format!(" at line {} column {}", e.line(), e.column());
    let message = whole.strip_suffix(&suffix).unwrap_or(&whole);
    match path_at(text, e.line(), e.column()) {
        path if path.is_empty() => message.to_owned(),
        path => format!("at {path}: {message}"),
    }
}

/// The path of the innermost value open, or just ended, at serde_json's `line` and `column`
/// (1-based; the column counts bytes) of `text`. Empty at the root.
pub(crate) fn path_at(text: &[u8], line: usize, column: usize) -> String {
    let line_start = if line <= 1 {
        0
    } else {
        text.iter()
            .enumerate()
            .filter(|(_, b)| **b == b'\n')
            .nth(line - 2)
            .map_or(text.len(), |(i, _)| i + 1)
    };
    let end = (line_start + column).min(text.len());
    let mut stack: Vec<Frame> = Vec::new();
    let mut i = 0;
    while i < end {
        match text[i] {
            b'{' | b'[' => {
                begin_value(&mut stack);
                stack.push(if text[i] == b'{' {
                    Frame::Object(None)
                } else {
                    Frame::Array {
                        index: 0,
                        begun: false,
                    }
                });
            }
            b'}' | b']' => {
                stack.pop();
            }
            b',' => {
                if let Some(Frame::Array { index, begun }) = stack.last_mut() {
                    *index += 1;
                    *begun = false;
                }
            }
            b'"' => {
                let close = string_end(text, i);
                let is_key = matches!(stack.last(), Some(Frame::Object(_)))
                    && text[close..]
                        .iter()
                        .find(|b| !b.is_ascii_whitespace())
                        .is_some_and(|b| *b == b':');
                if is_key {
                    let key = String::from_utf8_lossy(&text[i + 1..close - 1]).into_owned();
                    stack.pop();
                    stack.push(Frame::Object(Some(key)));
                } else {
                    begin_value(&mut stack);
                }
                i = close;
                continue;
            }
            b if b.is_ascii_whitespace() || b == b':' => {}
            // The first byte of a number, `true`, `false` or `null` (or any later one: begun
            // is begun).
            _ => begin_value(&mut stack),
        }
        i += 1;
    }
    // serde_json reports a wrong-typed object or array before consuming its bracket: the
    // value at the position has begun all the same.
    if text[end..]
        .iter()
        .find(|b| !b.is_ascii_whitespace())
        .is_some_and(|b| matches!(b, b'{' | b'['))
    {
        begin_value(&mut stack);
    }
    let mut path = String::new();
    for frame in &stack {
        match frame {
            Frame::Object(Some(key)) => {
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(key);
            }
            Frame::Array { index, begun: true } => path.push_str(&format!("[{index}]")),
            Frame::Object(None) | Frame::Array { begun: false, .. } => break,
        }
    }
    path
}

/// A value begins in the innermost container.
fn begin_value(stack: &mut [Frame]) {
    if let Some(Frame::Array { begun, .. }) = stack.last_mut() {
        *begun = true;
    }
}

/// The index just past the string starting with the quote at `open`.
fn string_end(text: &[u8], open: usize) -> usize {
    let mut j = open + 1;
    while j < text.len() {
        match text[j] {
            b'\\' => j += 2,
            b'"' => return j + 1,
            _ => j += 1,
        }
    }
    text.len()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Outer {
        name: String,
        inner: Inner,
        list: Vec<Inner>,
    }

    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Inner {
        count: u8,
        #[serde(default)]
        tags: Vec<String>,
    }

    /// The described error of decoding `text` as an `Outer`.
    fn error(text: &str) -> String {
        let e = serde_json::from_str::<Outer>(text).expect_err("the text does not decode");
        describe(text.as_bytes(), &e)
    }

    #[test]
    fn a_wrong_type_names_its_field() {
        let got = error(r#"{"name": "a", "inner": {"count": "x"}, "list": []}"#);
        assert_eq!(
            got,
            r#"at inner.count: invalid type: string "x", expected u8"#
        );
    }

    #[test]
    fn an_array_element_is_named_by_index_across_lines() {
        let text = "{\n  \"name\": \"a\",\n  \"inner\": {\"count\": 1},\n  \"list\": [\n    \
                    {\"count\": 1},\n    {\"count\": 2, \"tags\": [\"t\", 7]}\n  ]\n}";
        assert_eq!(
            error(text),
            "at list[1].tags[1]: invalid type: integer `7`, expected a string"
        );
    }

    #[test]
    fn a_missing_field_names_the_object_it_is_missing_from() {
        let got = error(r#"{"name": "a", "inner": {"tags": []}, "list": []}"#);
        assert_eq!(got, "at inner: missing field `count`");
        let got = error(r#"{"name": "a", "list": []}"#);
        assert_eq!(got, "missing field `inner`");
    }

    #[test]
    fn keys_with_escapes_and_strings_with_brackets_do_not_confuse_the_scan() {
        let got = error(r#"{"name": "a]}{[,\"", "inner": {"count": 300}, "list": []}"#);
        assert_eq!(
            got,
            "at inner.count: invalid value: integer `300`, expected u8"
        );
    }

    #[test]
    fn an_element_of_the_wrong_shape_is_named_by_its_index() {
        let got = error(
            r#"{"name": "a", "inner": {"count": 1}, "list": [{"count": 1, "tags": ["a", ["b"]]}]}"#,
        );
        assert_eq!(
            got,
            "at list[0].tags[1]: invalid type: sequence, expected a string"
        );
        let got =
            error(r#"{"name": "a", "inner": {"count": 1}, "list": [{"count": 1, "tags": [{}]}]}"#);
        assert_eq!(
            got,
            "at list[0].tags[0]: invalid type: map, expected a string"
        );
    }

    #[test]
    fn positions_past_the_text_or_at_its_start_are_the_root() {
        assert_eq!(path_at(b"{\"a\": 1}", 1, 0), "");
        assert_eq!(path_at(b"{\"a\": 1}", 9, 99), "");
        assert_eq!(path_at(b"", 1, 1), "");
    }
}
