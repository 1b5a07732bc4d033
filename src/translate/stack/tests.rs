//! Parser tests: exact frames and chains per language, the reference's panic cases, and
//! mutated inputs that must never panic.

use super::*;
use StackLanguage::*;

/// Golden 18's stack trace.
const JAVA: &str = "java.lang.IllegalStateException: state is not legal\n\tat io.opentelemetry.sdk.trace.RecordEventsReadableSpanTest.recordException(RecordEventsReadableSpanTest.java:626)\n\tat java.base/jdk.internal.reflect.NativeMethodAccessorImpl.invoke0(Native Method)\n\tat java.base/jdk.internal.reflect.NativeMethodAccessorImpl.invoke(NativeMethodAccessorImpl.java:62)\nCaused by: java.lang.IllegalArgumentException: bad argument";

/// CRLF, malformed frames, `Suppressed:`, `... N more`, a multi-line cause message, two causes.
const JAVA_MESSY: &str = "E: m\r\n\tat a.B.c(B.java:626)\r\n\tat a.B.d(B.java:62)junk\n\tat a.B.e\n\tat a.B.f(B.java:62\n\tat java.base/java.util.ArrayList.forEach(ArrayList.java:)\n\tSuppressed: R: ID = 2\n\t\tat R.close(R.java:26)\n\t... 1 more\nCaused by: java.lang.IllegalArgumentException: bad\nargument\n\tat x.Y.z(Y.java:73)\n\tat x.Y.w(Y.java)\n\t... 99 more\nCaused by: E\n\tat x.Y.v(Y.java:7)";

/// Golden 20's stack trace.
const JAVASCRIPT: &str = "TypeError: Cannot read property 'value' of null\n    at speedy (/home/gbusey/file.js:6:11)\n    at makeFaster (/home/gbusey/file.js:5:3)\n    at Object.<anonymous> (/home/gbusey/file.js:10:1)\n    at node.js:906:3\n    at Array.forEach (native)\n    at native";

/// A traceback with a multi-line cause message (the reference's test).
const PYTHON: &str = "Traceback (most recent call last):\n  File \"bar.py\", line 10, in greet_many\n    greet(person)\n  File \"foo.py\", line 5, in greet\n    print(greeting + ', ' + who_to_greet(someone))\nValueError: bad value\nwith more on\nnew lines\n\nDuring handling of the above exception, another exception occurred:\n\nTraceback (most recent call last):\n  File \"main.py\", line 14, in <module>\n    greet_many(['Chad', 'Dan', 1])\n  File \"greetings.py\", line 12, in greet_many\n    print('hi, ' + person)\nTypeError: must be str, not int";

/// A .NET stack with an inner exception and a malformed frame.
const DOTNET: &str = "System.InvalidOperationException: outer\r\n ---> System.FormatException: bad format\r\n   at System.Number.ThrowFormatException(ParsingStatus status, TypeCode type)\r\n   at MyNamespace.IntParser.Parse(String s) in C:\\apps\\MyNamespace\\IntParser.cs:line 11\r\n   --- End of inner exception stack trace ---\r\n   at MyNamespace.Program.Main(String[] args) in /src/Program.cs:line 12\r\n   at Broken.Frame(String s malformed";

/// A Go stack with a second goroutine, a frame without location and `created by`.
const GO: &str = "goroutine 19 [running]:\ngo.opentelemetry.io/otel/sdk/trace.recordStackTrace(0x0, 0x0)\n\totel-go-core/opentelemetry-go/sdk/trace/span.go:323 +0x9b\ntesting.tRunner(0xc000102900, 0x1484410)\n\tC:/go/src/testing/testing.go:1193 +0x1a3\ngoroutine 26 [running]:\nmain.worker(...)\n\t???\ncreated by testing.(*T).Run in goroutine 1\n\t/usr/local/go/src/testing/testing.go:1238 +0x63c";

/// A Rust backtrace with a message line, a header, a frame without `at` and the `{:#}` format.
const RUST: &str = "Error: boom\nstack backtrace:\n   0: orders::db::query\n             at ./src/db.rs:42:9\n   1: orders::handler::{{closure}}\n             at /home/u/src/handler.rs:17:5\n   2: std::rt::lang_start\n   3:     0x55d3c6e0a1b2 - main\n             at C:\\src\\main.rs:3";

/// Multi-byte characters next to every delimiter.
const UNICODE: &str = "é: ü\n\tat é/ü(é:1é)\n  File é,é line 1,é in é\nCaused by: é:é\n    at é (é:2:é)\n   0: é\n      at é:3:é\nDuring handling of the above exception, another exception occurred:\né\n  File \"é\", line 4, in é\nê";

/// Asserts the parse of `text`, rendered one item a line: `"type": "message"` (with
/// ` (no stack)` when `stack` is None), then `at "path":line "label"` per frame.
fn expect(language: StackLanguage, text: &str, expected: &str) {
    let mut got = Vec::new();
    for e in parse(language, text) {
        let none = if e.stack.is_none() { " (no stack)" } else { "" };
        got.push(format!("{:?}: {:?}{none}", e.exception_type, e.message));
        for f in e.stack.iter().flatten() {
            got.push(format!("at {:?}:{} {:?}", f.path, f.line, f.label));
        }
    }
    let expected: Vec<&str> = expected
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    assert_eq!(got, expected, "{text:?}");
}

#[test]
fn java_golden_18() {
    let want = r#"
        "": ""
        at "RecordEventsReadableSpanTest.java":626 "io.opentelemetry.sdk.trace.RecordEventsReadableSpanTest.recordException"
        at "Native Method":0 "jdk.internal.reflect.NativeMethodAccessorImpl.invoke0"
        at "NativeMethodAccessorImpl.java":62 "jdk.internal.reflect.NativeMethodAccessorImpl.invoke"
        "java.lang.IllegalArgumentException": "bad argument" (no stack)
    "#;
    expect(Java, JAVA, want);
}

#[test]
fn java_skips_suppressed_more_and_malformed_and_joins_cause_lines() {
    let want = r#"
        "": ""
        at "B.java":626 "a.B.c"
        at "ArrayList.java":0 "java.util.ArrayList.forEach"
        "java.lang.IllegalArgumentException": "badargument"
        at "Y.java":73 "x.Y.z"
        at "Y.java":0 "x.Y.w"
        "E": ""
        at "Y.java":7 "x.Y.v"
    "#;
    expect(Java, JAVA_MESSY, want);
    expect(Java, "E: only a header\n", r#""": "" (no stack)"#);
    // Only a `\r` before `\n` is dropped, as Go's textproto does: the last frame is malformed.
    expect(Java, "E\n\tat a.b(C.java:1)\r", r#""": "" (no stack)"#);
}

#[test]
fn javascript_golden_20() {
    let want = r#"
        "": ""
        at "/home/gbusey/file.js":6 "speedy "
        at "/home/gbusey/file.js":5 "makeFaster "
        at "/home/gbusey/file.js":10 "Object.<anonymous> "
        at "node.js":906 ""
        at "native":0 "Array.forEach "
        at "native":0 ""
    "#;
    expect(JavaScript, JAVASCRIPT, want);
    let malformed =
        "E\n    at speedy (/f.js)\n    at x (/f.js:5:3)junk\n    at y (/f.js:10\n    at \n    at a:1";
    let want = r#"
        "": ""
        at "/f.js":0 "speedy "
        at "a:1":0 ""
    "#;
    expect(JavaScript, malformed, want);
}

#[test]
fn python_during_handling_with_multi_line_message() {
    let want = r#"
        "": ""
        at "greetings.py":12 "greet_many"
        at "main.py":14 "<module>"
        "ValueError": "bad value\nwith more on\nnew lines"
        at "foo.py":5 "greet"
        at "bar.py":10 "greet_many"
    "#;
    expect(Python, PYTHON, want);
    let malformed = "T\n  File \"m.py\", line 14 in x\n  File \"m.py\", lin 14, in <module>\n  File \"m.py\", line 14, fin x\nE: m";
    let want = r#"
        "": ""
        at "m.py":14 ""
        at "m.py":0 "<module>"
    "#;
    expect(Python, malformed, want);
    // A cause block without a colon stops parsing (reference behaviour).
    let no_colon = PYTHON.replace("ValueError: bad value", "ValueError bad value");
    let want = r#"
        "": ""
        at "greetings.py":12 "greet_many"
        at "main.py":14 "<module>"
    "#;
    expect(Python, &no_colon, want);
}

#[test]
fn dotnet_line_numbers_and_inner_exception() {
    let want = r#"
        "": ""
        at "":0 "System.Number.ThrowFormatException(ParsingStatus status, TypeCode type)"
        at "C:\\apps\\MyNamespace\\IntParser.cs":11 "MyNamespace.IntParser.Parse(String s)"
        at "/src/Program.cs":12 "MyNamespace.Program.Main(String[] args)"
    "#;
    expect(DotNet, DOTNET, want);
}

#[test]
fn go_panic_with_created_by_and_carry_over() {
    let want = r#"
        "": ""
        at "otel-go-core/opentelemetry-go/sdk/trace/span.go":323 "go.opentelemetry.io/otel/sdk/trace.recordStackTrace(0x0, 0x0)"
        at "/go/src/testing/testing.go":1193 "testing.tRunner(0xc000102900, 0x1484410)"
        at "/go/src/testing/testing.go":1193 "main.worker(...)"
        at "/usr/local/go/src/testing/testing.go":1238 "created by testing.(*T).Run in goroutine 1"
    "#;
    expect(Go, GO, want);
    // A last label without a location line still makes a frame.
    let want = r#"
        "": ""
        at "":0 "main.main()"
    "#;
    expect(Go, "goroutine 1 [running]:\nmain.main()", want);
    assert!(is_goroutine_header("goroutine 1 [running, locked to thread]:"));
    assert!(!is_goroutine_header("goroutine 1 [runningx]:"));
    assert!(!is_goroutine_header("goroutinerunning:"));
    assert_eq!(go_location("\tC:a ::5 x/y.go:12x"), Some(("x/y.go", 12)));
}

#[test]
fn rust_backtraces() {
    let expected = r#"
        "": ""
        at "./src/db.rs":42 "orders::db::query"
        at "/home/u/src/handler.rs":17 "orders::handler::{{closure}}"
        at "":0 "std::rt::lang_start"
        at "C:\\src\\main.rs":3 "main"
    "#;
    expect(Rust, RUST, expected);
    let bare = RUST.split_once("stack backtrace:\n").map_or("", |(_, rest)| rest);
    expect(Rust, bare, expected);
    let anyhow = "boom\n\nCaused by:\n    0: disk full\n\nStack backtrace:\n   0: app::main\n             at src/main.rs:1:1\n";
    let want = r#"
        "": ""
        at "src/main.rs":1 "app::main"
    "#;
    expect(Rust, anyhow, want);
}

#[test]
fn reference_panics_are_handled() {
    // Java `Caused by: X:` with the colon last: message "".
    let want = r#"
        "": "" (no stack)
        "X": "" (no stack)
    "#;
    expect(Java, "E\nCaused by: X:", want);
    // Python cause block whose bounds cross: stop parsing, keeping the frames so far.
    let inverted = "T\n  File \"a.py\", line 1, in f\nDuring handling of the above exception, another exception occurred:\n  File \"b.py\", line 2, in g\nE: m";
    let want = r#"
        "": ""
        at "b.py":2 "g"
    "#;
    expect(Python, inverted, want);
    // Python cause message with the colon last, and a `File` part too short for a path.
    let short = "  File \"a.py\", line 1, in f\nc\nValueError:\n\nDuring handling of the above exception, another exception occurred:\n  File ,x, in g\nE";
    let want = r#"
        "": ""
        at "":0 "g"
        "ValueError": ""
        at "a.py":1 "f"
    "#;
    expect(Python, short, want);
    // .NET location ending in exactly `line`, and `at in ...`.
    let want = r#"
        "": ""
        at "X.cs":0 "A.B()"
        at "Y.cs":5 ""
    "#;
    expect(DotNet, "E\n at A.B() in X.cs:line\n at in Y.cs:line 5", want);
}

#[test]
fn cut_characters_become_replacement_characters() {
    // Go slices a byte off `é`; its JSON encoder writes each stray byte as U+FFFD.
    let want = "\"\": \"\" (no stack)\n\"X\": \"\u{FFFD}\" (no stack)";
    expect(Java, "E\nCaused by: X:é", want);
    let want = "\"\": \"\"\nat \"a\u{FFFD}\":2 \"g\"\nat \"\u{FFFD}\":1 \"f\"";
    expect(
        Python,
        "  File éa, line 1, in f\n  File \"aé, line 2, in g\nE",
        want,
    );
    assert_eq!(byte_slice("€x", 1, 4), "\u{FFFD}\u{FFFD}x");
}

#[test]
fn plain_slices_are_borrowed() {
    let parsed = parse(Java, JAVA_MESSY);
    let borrowed = |c: &Cow<'_, str>| matches!(c, Cow::Borrowed(_));
    assert!(borrowed(&parsed[1].exception_type) && !borrowed(&parsed[1].message));
    assert!(borrowed(&parsed[2].exception_type) && borrowed(&parsed[2].message));
    let mut frames = parsed.iter().flat_map(|e| e.stack.iter().flatten());
    assert!(frames.all(|f| borrowed(&f.path) && borrowed(&f.label)));
    let single = PYTHON.replace("\nwith more on\nnew lines", "");
    let python = parse(Python, &single);
    assert!(borrowed(&python[1].exception_type) && borrowed(&python[1].message));
}

#[test]
fn atoi_matches_go() {
    for (text, value) in [
        ("12", 12),
        ("+7", 7),
        ("-3", -3),
        ("", 0),
        ("-", 0),
        ("1a", 0),
        (" 1", 0),
        ("9223372036854775807", i64::MAX),
        ("9223372036854775808", i64::MAX),
        ("-9223372036854775808", i64::MIN),
        ("-9223372036854775809", i64::MIN),
        // Go returns at the first overflow, even before a later non-digit.
        ("99999999999999999999x", i64::MAX),
        ("18446744073709551615x", 0),
    ] {
        assert_eq!(atoi(text), value, "{text:?}");
    }
}

#[test]
fn sdk_languages() {
    for (name, language) in [
        ("java", Some(Java)),
        ("php", Some(Java)),
        ("python", Some(Python)),
        ("javascript", Some(JavaScript)),
        ("nodejs", Some(JavaScript)),
        ("dotnet", Some(DotNet)),
        ("go", Some(Go)),
        ("rust", Some(Rust)),
        ("webjs", Some(JavaScript)),
        ("Java", None),
        ("", None),
    ] {
        assert_eq!(StackLanguage::from_sdk_language(name), language, "{name}");
    }
}

/// Parses `text` with every parser, checking the result's shape.
fn check(text: &str) {
    for language in [Java, Python, JavaScript, DotNet, Go, Rust] {
        let parsed = parse(language, text);
        assert!(!parsed.is_empty());
        assert!(parsed
            .iter()
            .all(|e| e.stack.as_ref().is_none_or(|s| !s.is_empty())));
    }
}

#[test]
fn mutated_samples_never_panic() {
    for sample in [JAVA, JAVA_MESSY, JAVASCRIPT, PYTHON, DOTNET, GO, RUST, UNICODE] {
        for (i, c) in sample.char_indices() {
            let (head, tail) = (&sample[..i], &sample[i + c.len_utf8()..]);
            check(head);
            for replacement in [':', '(', ')', '\n'] {
                check(&format!("{head}{replacement}{tail}"));
            }
        }
    }
}

#[test]
fn large_inputs_parse_in_linear_time() {
    let during = "During handling of the above exception, another exception occurred:\n";
    for unit in [
        "\tat a(",
        "Caused by: x\n",
        during,
        "  File \"a\", line 1, in f\n",
        "goroutine running:\n",
        "   0: x\n",
    ] {
        check(&unit.repeat(200_000));
    }
    check(&format!("  File \"a\", line 1, in f\n{}", during.repeat(200_000)));
    check(&format!("h\nl\n{}", ":a".repeat(200_000)));
}
