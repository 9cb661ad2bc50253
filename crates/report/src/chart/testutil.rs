//! Test helpers: a tiny well-formedness check for the SVG and table lookups.

/// Checks that `xml` is well-formed enough for browsers and Typst: balanced tags, quoted
/// attributes, known entities only, no stray `<` or `&` in text, one root element `<svg>`.
pub(crate) fn assert_well_formed(xml: &str) {
    let mut stack: Vec<String> = Vec::new();
    let mut roots = 0;
    let mut rest = xml;
    while let Some(start) = rest.find('<') {
        check_text(&rest[..start]);
        let after = &rest[start + 1..];
        let end = tag_end(after).unwrap_or_else(|| panic!("unterminated tag at {after:.40}"));
        let tag = &after[..end];
        rest = &after[end + 1..];
        if let Some(name) = tag.strip_prefix('/') {
            let open = stack
                .pop()
                .unwrap_or_else(|| panic!("closing </{name}> without opening"));
            assert_eq!(open, name.trim(), "mismatched closing tag");
            continue;
        }
        let self_closing = tag.ends_with('/');
        let body = tag.trim_end_matches('/');
        let name: String = body.chars().take_while(|c| !c.is_whitespace()).collect();
        assert!(
            !name.is_empty()
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == ':'),
            "bad tag name {name:?}"
        );
        check_attributes(&body[name.len()..]);
        if stack.is_empty() {
            roots += 1;
            assert_eq!(name, "svg", "root element");
        }
        if !self_closing {
            stack.push(name);
        }
    }
    check_text(rest);
    assert!(stack.is_empty(), "unclosed tags: {stack:?}");
    assert_eq!(roots, 1, "exactly one root element");
}

fn tag_end(s: &str) -> Option<usize> {
    let mut quote = None;
    for (i, c) in s.char_indices() {
        match (quote, c) {
            (None, '"') | (None, '\'') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            (None, '>') => return Some(i),
            (None, '<') => panic!("'<' inside a tag"),
            _ => {}
        }
    }
    None
}

fn check_attributes(s: &str) {
    let mut rest = s.trim();
    while !rest.is_empty() {
        let eq = rest
            .find('=')
            .unwrap_or_else(|| panic!("attribute without value: {rest}"));
        let name = rest[..eq].trim();
        assert!(
            !name.is_empty() && !name.contains(char::is_whitespace),
            "bad attribute name {name:?}"
        );
        let value = &rest[eq + 1..];
        assert!(value.starts_with('"'), "unquoted attribute {name}");
        let close = value[1..]
            .find('"')
            .unwrap_or_else(|| panic!("unterminated attribute {name}"));
        check_text(&value[1..close + 1]);
        rest = value[close + 2..].trim_start();
    }
}

fn check_text(text: &str) {
    assert!(
        !text.contains('<') && !text.contains('>'),
        "raw angle bracket in text {text:?}"
    );
    let mut rest = text;
    while let Some(i) = rest.find('&') {
        let after = &rest[i..];
        let ok = ["&amp;", "&lt;", "&gt;", "&quot;", "&apos;"]
            .iter()
            .any(|e| after.starts_with(e));
        assert!(ok, "unknown entity in {text:?}");
        rest = &after[1..];
    }
}

/// The texts of all `<title>` elements after the first (the chart's own title): the tooltips.
pub(crate) fn tooltips(svg: &str) -> Vec<String> {
    svg.split("<title")
        .skip(2)
        .filter_map(|s| {
            s.split_once('>')
                .and_then(|(_, r)| r.split_once("</title>"))
                .map(|(t, _)| t.to_owned())
        })
        .collect()
}

/// The numeric values of attribute `name` on elements starting with `prefix`.
pub(crate) fn attr_values(svg: &str, prefix: &str, name: &str) -> Vec<f64> {
    let key = format!(" {name}=\"");
    svg.lines()
        .filter(|l| l.starts_with(prefix))
        .filter_map(|l| {
            l.split_once(&key)
                .and_then(|(_, r)| r.split_once('"'))
                .and_then(|(v, _)| v.parse().ok())
        })
        .collect()
}

#[test]
fn the_checker_rejects_broken_xml() {
    for bad in [
        "<svg><g></svg>",
        "<svg a=b></svg>",
        "<svg>a & b</svg>",
        "<svg></svg><svg></svg>",
        "<svg><g></h></svg>",
    ] {
        assert!(
            std::panic::catch_unwind(|| assert_well_formed(bad)).is_err(),
            "{bad}"
        );
    }
    assert_well_formed("<svg a=\"1\"><g/><text>a &amp; b</text></svg>\n");
}
