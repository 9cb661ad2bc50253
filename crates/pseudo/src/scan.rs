//! The identifier scanner behind the lab's identifier guard.
//!
//! `datalab build` refuses a file or column that holds direct identifiers (tax codes, names,
//! street addresses, phone numbers, e-mails, IBANs) unless the column is declared a pseudonym, and
//! `datalab scan` reports what it found with masked examples. This module does the finding:
//!
//! - [`kind_from_column_name`] reads a column's name (Italian or English);
//! - [`detect_value`] checks one value, also inside free text, cheap byte checks first and
//!   regexes (compiled once) only when the bytes could hold an identifier;
//! - names are found per column, statistically ([`ColumnScan`]), against embedded lists of common
//!   Italian and foreign first names and surnames;
//! - [`TableScan`] accumulates a whole table row by row (or column by column) and turns the counts
//!   into [`Finding`]s with thresholds chosen so that big files give few false positives and a real
//!   identifier column is never missed;
//! - [`mask`] makes examples safe to print.
//!
//! Pseudonyms (`p1.` / `w1.` followed by 26 base32 characters) are never identifiers.

use std::collections::HashSet;
use std::fmt;
use std::ops::Range;
use std::sync::LazyLock;

use regex::Regex;
use serde::Serialize;

#[path = "scan_names.rs"]
mod names;

/// A kind of direct identifier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum IdentifierKind {
    /// An Italian tax code (codice fiscale), valid or not.
    TaxCode,
    /// A person's first name, surname or full name.
    Name,
    /// A street address with a house number.
    Address,
    /// An Italian phone number, mobile or landline.
    Phone,
    /// An e-mail (or PEC) address.
    Email,
    /// A bank account number (IBAN).
    Iban,
}

impl IdentifierKind {
    /// Every kind, in the order findings are reported.
    pub const ALL: [IdentifierKind; 6] = [
        IdentifierKind::TaxCode,
        IdentifierKind::Name,
        IdentifierKind::Address,
        IdentifierKind::Phone,
        IdentifierKind::Email,
        IdentifierKind::Iban,
    ];

    /// The snake_case name used in reports and JSON: `tax_code`, `name`, `address`, `phone`,
    /// `email`, `iban`.
    pub fn as_str(self) -> &'static str {
        match self {
            IdentifierKind::TaxCode => "tax_code",
            IdentifierKind::Name => "name",
            IdentifierKind::Address => "address",
            IdentifierKind::Phone => "phone",
            IdentifierKind::Email => "email",
            IdentifierKind::Iban => "iban",
        }
    }

    fn index(self) -> usize {
        self as usize
    }

    fn bit(self) -> u8 {
        1 << self.index()
    }
}

impl fmt::Display for IdentifierKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

// ---------------------------------------------------------------------------------------------
// Column names
// ---------------------------------------------------------------------------------------------

/// Splits a column name into lowercase ASCII tokens: on `_`, space, `-`, any other punctuation,
/// camelCase humps and letter/digit changes. Pure digit tokens are dropped (`telefono2`).
fn column_name_tokens(name: &str) -> Vec<String> {
    let ascii = deunicode::deunicode(name);
    let mut tokens = Vec::new();
    let mut current = String::new();
    let mut prev: Option<char> = None;
    for c in ascii.chars() {
        if !c.is_ascii_alphanumeric() {
            push_token(&mut tokens, &mut current);
            prev = None;
            continue;
        }
        if let Some(p) = prev {
            let hump = p.is_ascii_lowercase() && c.is_ascii_uppercase();
            let digit_change = p.is_ascii_digit() != c.is_ascii_digit();
            if hump || digit_change {
                push_token(&mut tokens, &mut current);
            }
        }
        current.push(c.to_ascii_lowercase());
        prev = Some(c);
    }
    push_token(&mut tokens, &mut current);
    tokens
}

fn push_token(tokens: &mut Vec<String>, current: &mut String) {
    if !current.is_empty() && !current.bytes().all(|b| b.is_ascii_digit()) {
        tokens.push(std::mem::take(current));
    }
    current.clear();
}

/// Words that make a column a person-name column on their own (`nome`, `surname`, ...).
const NAME_WORDS: &[&str] = &[
    "nome",
    "cognome",
    "nominativo",
    "surname",
    "name",
    "firstname",
    "lastname",
    "fullname",
    "givenname",
    "familyname",
    "forename",
    "cognomenome",
    "nomecognome",
];

/// Words that may accompany a name word in a person-name column: who the person is, or the
/// parts of `first_name`, `nome_e_cognome`, ...
const PERSON_QUALIFIERS: &[&str] = &[
    "first",
    "last",
    "full",
    "given",
    "family",
    "middle",
    "e",
    "and",
    "di",
    "del",
    "della",
    "dell",
    "beneficiario",
    "beneficiaria",
    "richiedente",
    "utente",
    "assistito",
    "assistita",
    "titolare",
    "dichiarante",
    "genitore",
    "padre",
    "madre",
    "figlio",
    "figlia",
    "persona",
    "cittadino",
    "cittadina",
    "intestatario",
    "intestataria",
    "componente",
    "minore",
    "coniuge",
    "tutore",
    "referente",
    "operatore",
    "assistente",
    "paziente",
    "studente",
    "alunno",
    "dipendente",
    "lavoratore",
    "contatto",
    "cliente",
    "person",
    "applicant",
    "beneficiary",
    "recipient",
    "parent",
    "citizen",
    "holder",
    "client",
    "user",
    "member",
    "mother",
    "father",
    "child",
    "spouse",
    "contact",
    "patient",
    "student",
    "employee",
    "worker",
    "caregiver",
];

/// The identifier kind a column's name announces, if any.
///
/// The name is split into tokens (on `_`, space, `-`, camelCase and digits) and matched by whole
/// tokens, so `CODICE_FISCALE`, `CF_BENEFICIARIO`, `codFisc`, `telefono2` and `e-mail` are
/// recognised while `zone`, `measure` or `person_pid` are not. Person names are recognised only
/// when every token is a name word (`nome`, `cognome`, `name`, `surname`, ...) or a person
/// qualifier (`beneficiario`, `richiedente`, `first`, `applicant`, ...), so `file_name`,
/// `zone_name` or `nome_comune` are not names. A bare `name` is treated as a person's name: in a
/// custodian's extract that is what it almost always is, and the cost of a false alarm is a
/// rename. `email_address` is an e-mail, not an address; `ip_address` is neither.
pub fn kind_from_column_name(name: &str) -> Option<IdentifierKind> {
    let tokens = column_name_tokens(name);
    let t: Vec<&str> = tokens.iter().map(String::as_str).collect();
    if t.is_empty() {
        return None;
    }
    let has = |w: &str| t.contains(&w);
    let pair = |a: &str, b: &str| t.windows(2).any(|p| p[0] == a && p[1] == b);

    let tax_code = [
        "cf",
        "codfisc",
        "codfis",
        "codicefiscale",
        "codfiscale",
        "ssn",
        "taxcode",
    ]
    .iter()
    .any(|w| has(w))
        || ["fiscalcode", "codicefisc"].iter().any(|w| has(w))
        || pair("codice", "fiscale")
        || pair("codice", "fisc")
        || pair("cod", "fisc")
        || pair("cod", "fiscale")
        || pair("cod", "fis")
        || pair("tax", "code")
        || pair("fiscal", "code")
        || pair("c", "f");
    if tax_code {
        return Some(IdentifierKind::TaxCode);
    }
    let email = ["email", "mail", "pec", "emailaddress"]
        .iter()
        .any(|w| has(w))
        || pair("e", "mail")
        || pair("posta", "elettronica");
    if email {
        return Some(IdentifierKind::Email);
    }
    if has("iban") {
        return Some(IdentifierKind::Iban);
    }
    let phone = [
        "telefono",
        "telefonico",
        "tel",
        "cellulare",
        "cell",
        "cellphone",
        "phone",
        "telephone",
        "mobile",
        "fax",
    ]
    .iter()
    .any(|w| has(w));
    if phone {
        return Some(IdentifierKind::Phone);
    }
    let address = ["indirizzo", "address", "via", "street", "streetaddress"]
        .iter()
        .any(|w| has(w));
    let network = ["ip", "mac", "web", "url", "ipaddress"]
        .iter()
        .any(|w| has(w));
    if address && !network {
        return Some(IdentifierKind::Address);
    }
    let all_person_words = t
        .iter()
        .all(|w| NAME_WORDS.contains(w) || PERSON_QUALIFIERS.contains(w));
    let any_name_word = t.iter().any(|w| NAME_WORDS.contains(w));
    if all_person_words && any_name_word {
        return Some(IdentifierKind::Name);
    }
    None
}

// ---------------------------------------------------------------------------------------------
// Values
// ---------------------------------------------------------------------------------------------

fn regex(pattern: &str) -> Regex {
    match Regex::new(pattern) {
        Ok(re) => re,
        Err(e) => unreachable!("built-in scanner regex does not compile: {e}"),
    }
}

static TAX_CODE: LazyLock<Regex> = LazyLock::new(|| {
    regex(
        r"(?i)\b[A-Z]{6}[0-9LMNPQRSTUV]{2}[ABCDEHLMPRST][0-9LMNPQRSTUV]{2}[A-Z][0-9LMNPQRSTUV]{3}[A-Z]\b",
    )
});

static EMAIL: LazyLock<Regex> = LazyLock::new(|| {
    regex(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,24}\b")
});

/// Candidate IBANs: two letters, two check digits, then 11-30 alphanumerics, either compact or in
/// space-separated groups of four. Checked further by [`iban_candidate_len`].
static IBAN: LazyLock<Regex> = LazyLock::new(|| {
    regex(
        r"(?i)\b[A-Z]{2}[0-9]{2}(?:[A-Z0-9]{11,30}|(?:\x20[A-Z0-9]{4}){2,7}(?:\x20[A-Z0-9]{1,4})?)\b",
    )
});

/// Candidate Italian phone numbers (checked further by [`phone_ok`]): an optional `+39`/`0039`,
/// then a mobile (`3xx` + 6-7 digits) or a landline (`0` + area code + 4-8 digits), digits
/// optionally separated by spaces, dots, dashes or one slash. The number must be a token of its
/// own: not glued to letters, other digits, `-` or `/` (codes such as `GOL-2022-0000001`,
/// `ERP/2019/00001`), and not followed by a decimal part.
static PHONE: LazyLock<Regex> = LazyLock::new(|| {
    regex(
        r"(?x)
        (?:^|[^0-9A-Za-z+/\-])
        (?P<ph>
            (?P<intl>(?:\+|00)\x20?39[\x20.\-]?)?
            (?:
                3[1-9][0-9](?:[\x20.\-/]?[0-9]){6,7}
              | \(?0[1-9][0-9]{0,2}\)?(?:[\x20.\-/]?[0-9]){4,8}
            )
        )
        (?:$|[^0-9A-Za-z/\-.,]|[.,](?:[^0-9]|$))",
    )
});

/// A street prefix, a street name of up to seven words, and a house number (`, 57`, ` 57`,
/// `n. 57`, `57/A`, `57A`). Checked further by [`address_ok`].
static ADDRESS: LazyLock<Regex> = LazyLock::new(|| {
    regex(
        r"(?ix)
        \b
        (?P<prefix>
            (?:VIALE|VIALETTO|VIA|PIAZZALE|PIAZZETTA|PIAZZA|CORSO|LARGO|STRADELLO|STRADA|VICOLO
              |BORGO|CONTRADA|LOCALIT[AÀ]|LUNGOMARE|SALITA|TRAVERSA|GALLERIA|FRAZIONE)\b'?
          | (?:V\.LE|V\.LO|V\.|P\.ZZALE|P\.LE|P\.ZZA|P\.ZA|P\.TTA|C\.SO|L\.GO|STR\.|C\.DA|LOC\.|FRAZ\.)
        )
        \s*
        (?P<name>\p{L}[\p{L}'’.]*(?:\x20+[\p{L}'’.][\p{L}'’.]*){0,6})
        \s*(?P<sep>,\s*|\s+)
        (?P<marker>(?:N|NR|NUM|N°|NO)\.?\s*)?
        (?P<num>[0-9]{1,4})
        (?:\s*/\s*[A-Z0-9]{1,3}|[A-Z])?
        \b",
    )
});

/// Words that cannot be part of a street name: they turn `CORSO DI ITALIANO LIVELLO 2` or
/// `inviato VIA EMAIL IL 12` into something other than an address.
const NOT_STREET_WORDS: &[&str] = &[
    "ANNO",
    "ANNI",
    "ORE",
    "ORA",
    "MESE",
    "MESI",
    "GIORNO",
    "GIORNI",
    "SETTIMANA",
    "SETTIMANE",
    "VOLTE",
    "EURO",
    "EUR",
    "LIVELLO",
    "CLASSE",
    "MODULO",
    "MODULI",
    "EDIZIONE",
    "LEZIONE",
    "LEZIONI",
    "ITALIANO",
    "INGLESE",
    "LINGUA",
    "FORMAZIONE",
    "AGGIORNAMENTO",
    "PROFESSIONALE",
    "RATA",
    "RATE",
    "PUNTO",
    "PUNTI",
    "EMAIL",
    "MAIL",
    "PEC",
    "TELEFONO",
    "TELEFONICA",
    "POSTA",
    "FAX",
    "WEB",
    "INTERNET",
    "SMS",
    "RACCOMANDATA",
    "ART",
    "ARTICOLO",
    "COMMA",
    "LEGGE",
    "DPR",
    "DLGS",
    "PRATICA",
    "PRATICHE",
    "PROTOCOLLO",
    "PROT",
    "ISEE",
    "CONTRIBUTO",
    "DOMANDA",
    "DOMANDE",
    "BANDO",
    "LOTTO",
    "FASE",
    "PERSONE",
    "UTENTI",
    "MINORI",
    "FIGLI",
    "POSTI",
    "ALLOGGI",
    "ALLOGGIO",
    "BONIFICO",
    "ASSEGNO",
    "CONTANTI",
    "BANCOMAT",
    "POS",
    "CARTA",
    "POSTALE",
    "WHATSAPP",
    "SKYPE",
    "TEAMS",
    "ZOOM",
];

/// ISO 13616 countries and their IBAN lengths.
const IBAN_LENGTHS: &[(&str, usize)] = &[
    ("AD", 24),
    ("AE", 23),
    ("AL", 28),
    ("AT", 20),
    ("AZ", 28),
    ("BA", 20),
    ("BE", 16),
    ("BG", 22),
    ("BH", 22),
    ("BI", 27),
    ("BR", 29),
    ("BY", 28),
    ("CH", 21),
    ("CR", 22),
    ("CY", 28),
    ("CZ", 24),
    ("DE", 22),
    ("DJ", 27),
    ("DK", 18),
    ("DO", 28),
    ("EE", 20),
    ("EG", 29),
    ("ES", 24),
    ("FI", 18),
    ("FK", 18),
    ("FO", 18),
    ("FR", 27),
    ("GB", 22),
    ("GE", 22),
    ("GI", 23),
    ("GL", 18),
    ("GR", 27),
    ("GT", 28),
    ("HR", 21),
    ("HU", 28),
    ("IE", 22),
    ("IL", 23),
    ("IQ", 23),
    ("IS", 26),
    ("IT", 27),
    ("JO", 30),
    ("KW", 30),
    ("KZ", 20),
    ("LB", 28),
    ("LC", 32),
    ("LI", 21),
    ("LT", 20),
    ("LU", 20),
    ("LV", 21),
    ("LY", 25),
    ("MC", 27),
    ("MD", 24),
    ("ME", 22),
    ("MK", 19),
    ("MN", 20),
    ("MR", 27),
    ("MT", 31),
    ("MU", 30),
    ("NI", 28),
    ("NL", 18),
    ("NO", 15),
    ("OM", 23),
    ("PK", 24),
    ("PL", 28),
    ("PS", 29),
    ("PT", 25),
    ("QA", 29),
    ("RO", 24),
    ("RS", 22),
    ("RU", 33),
    ("SA", 24),
    ("SC", 31),
    ("SD", 18),
    ("SE", 24),
    ("SI", 19),
    ("SK", 24),
    ("SM", 27),
    ("SO", 23),
    ("ST", 25),
    ("SV", 28),
    ("TL", 23),
    ("TN", 24),
    ("TR", 26),
    ("UA", 29),
    ("VA", 22),
    ("VG", 24),
    ("XK", 20),
];

/// Whether `s` has the shape of a datalab pseudonym: `p` or `w`, a version, a dot and 26
/// lowercase base32 characters. Deliberately lenient (no check of the padding bits): anything
/// shaped like a pseudonym is not an identifier.
fn is_pseudonym_shape(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() < 29 || !matches!(b[0], b'p' | b'w') {
        return false;
    }
    let Some(dot) = b.iter().position(|&c| c == b'.') else {
        return false;
    };
    dot >= 2
        && b[1..dot].iter().all(u8::is_ascii_digit)
        && b.len() - dot - 1 == 26
        && b[dot + 1..]
            .iter()
            .all(|&c| c.is_ascii_lowercase() || (b'2'..=b'7').contains(&c))
}

/// What a single pass over the bytes says about a value; decides which regexes may run.
#[derive(Default)]
struct Shape {
    has_at: bool,
    digits: usize,
    letters: usize,
    max_alnum_run: usize,
    /// A digit run starting with `0` or `3` then a non-zero digit, at a token start.
    phone_start: bool,
}

fn shape(v: &[u8]) -> Shape {
    let mut s = Shape::default();
    let mut run = 0;
    for (i, &b) in v.iter().enumerate() {
        if b.is_ascii_alphanumeric() {
            run += 1;
            if run > s.max_alnum_run {
                s.max_alnum_run = run;
            }
        } else {
            run = 0;
        }
        if b.is_ascii_digit() {
            s.digits += 1;
            if !s.phone_start
                && (b == b'0' || b == b'3')
                && v.get(i + 1).is_some_and(|n| (b'1'..=b'9').contains(n))
            {
                let at_token_start = i == 0
                    || match v[i - 1] {
                        b'(' | b' ' | b'.' | b'+' | b':' | b',' | b';' | b'\t' => true,
                        p => !p.is_ascii_alphanumeric() && p != b'-' && p != b'/' && p < 0x80,
                    }
                    // +39 / 0039 before the national number
                    || (i >= 2 && &v[i - 2..i] == b"39");
                s.phone_start = at_token_start;
            }
        } else if b.is_ascii_alphabetic() || b >= 0x80 {
            s.letters += 1;
        } else if b == b'@' {
            s.has_at = true;
        }
    }
    s
}

fn find_tax_code(v: &str) -> Option<Range<usize>> {
    TAX_CODE.find(v).map(|m| m.range())
}

fn find_email(v: &str) -> Option<Range<usize>> {
    EMAIL.find(v).map(|m| m.range())
}

fn find_iban(v: &str) -> Option<Range<usize>> {
    for m in IBAN.find_iter(v) {
        if let Some(len) = iban_candidate_len(m.as_str()) {
            return Some(m.start()..m.start() + len);
        }
    }
    None
}

/// If `candidate` (as matched by [`IBAN`]) starts with an IBAN, its length in bytes (spaces
/// included). An Italian IBAN is accepted on its shape alone (`IT`, 2 digits, a letter, 22
/// alphanumerics) even with wrong check digits: a mistyped IBAN is still an identifier. Other
/// countries need their registered length and the ISO 13616 mod-97 check.
fn iban_candidate_len(candidate: &str) -> Option<usize> {
    let compact: String = candidate
        .bytes()
        .filter(|b| *b != b' ')
        .map(|b| b.to_ascii_uppercase() as char)
        .collect();
    let country = compact.get(..2)?;
    let &(_, len) = IBAN_LENGTHS.iter().find(|(c, _)| *c == country)?;
    let iban = compact.get(..len)?;
    let ok = if country == "IT" {
        iban.as_bytes()[4].is_ascii_alphabetic()
    } else {
        iban_mod97_ok(iban)
    };
    if !ok {
        return None;
    }
    // Byte length in the original candidate covering `len` alphanumerics.
    let mut seen = 0;
    for (i, b) in candidate.bytes().enumerate() {
        if b != b' ' {
            seen += 1;
            if seen == len {
                return Some(i + 1);
            }
        }
    }
    None
}

/// ISO 13616 check: move the first four characters to the end, letters to 10..=35, mod 97 = 1.
fn iban_mod97_ok(iban: &str) -> bool {
    let b = iban.as_bytes();
    if b.len() < 5 {
        return false;
    }
    let mut r: u32 = 0;
    for &c in b[4..].iter().chain(&b[..4]) {
        r = match c {
            b'0'..=b'9' => (r * 10 + u32::from(c - b'0')) % 97,
            b'A'..=b'Z' => (r * 100 + u32::from(c - b'A') + 10) % 97,
            _ => return false,
        };
    }
    r == 1
}

fn find_phone(v: &str, phone_column: bool) -> Option<Range<usize>> {
    for caps in PHONE.captures_iter(v) {
        let (Some(ph), intl) = (caps.name("ph"), caps.name("intl")) else {
            continue;
        };
        let national = match intl {
            Some(i) => &v[i.end()..ph.end()],
            None => ph.as_str(),
        };
        if phone_ok(&v[..ph.start()], national, intl.is_some(), phone_column) {
            return Some(ph.range());
        }
    }
    None
}

/// Whether a phone-shaped candidate is a phone number rather than a date, an amount or an id.
///
/// A mobile (`3xx`) needs 9-10 digits; without separators, `+39` or a phone context it needs 10.
/// A landline (`0...`) needs 6-11 digits and `+39`, a phone context (`tel`, `cell`, `fax`, ...
/// just before it) or a phone column; otherwise separators and at least 8 digits (`059 203111`).
/// Dates (`01.02.2019`) and dot-grouped thousands (`350.000.000`) are rejected.
fn phone_ok(before: &str, national: &str, intl: bool, phone_column: bool) -> bool {
    let digits = national.bytes().filter(u8::is_ascii_digit).count();
    let is_sep = |c: char| matches!(c, ' ' | '.' | '-' | '/' | '(' | ')');
    let groups: Vec<&str> = national.split(is_sep).filter(|g| !g.is_empty()).collect();
    let has_sep = groups.len() > 1;
    if national.matches('/').count() > 1 {
        return false;
    }
    if groups.len() == 3 {
        let n = |g: &str| g.parse::<u32>().unwrap_or(0);
        let (d, m, y) = (groups[0], groups[1], groups[2]);
        if d.len() <= 2
            && m.len() <= 2
            && (y.len() == 2 || y.len() == 4)
            && (1..=31).contains(&n(d))
            && (1..=12).contains(&n(m))
        {
            return false;
        }
    }
    let dots_only = national.contains('.') && !national.contains([' ', '-', '/']);
    // 350.000.000 (thousands) or 3456789.12 (decimals)
    let thousands = groups.len() > 1 && groups[1..].iter().all(|g| g.len() == 3);
    let decimals = groups.len() == 2 && groups[0].len() > 4;
    if !intl && dots_only && (thousands || decimals) {
        return false;
    }
    let context = phone_context(before);
    if national.starts_with('3') {
        (9..=10).contains(&digits) && (intl || has_sep || phone_column || context || digits == 10)
    } else {
        (6..=11).contains(&digits) && (intl || phone_column || context || (has_sep && digits >= 8))
    }
}

/// Whether the text just before a number announces a phone number.
fn phone_context(before: &str) -> bool {
    let start = before.char_indices().rev().nth(19).map_or(0, |(i, _)| i);
    let tail = before[start..].to_ascii_lowercase();
    [
        "tel", "cell", "fax", "phone", "chiam", "recapit", "whatsapp",
    ]
    .iter()
    .any(|w| tail.contains(w))
}

fn find_address(v: &str) -> Option<Range<usize>> {
    for caps in ADDRESS.captures_iter(v) {
        let (Some(all), Some(prefix), Some(name), Some(num)) = (
            caps.get(0),
            caps.name("prefix"),
            caps.name("name"),
            caps.name("num"),
        ) else {
            continue;
        };
        let marked = caps.name("marker").is_some()
            || caps.name("sep").is_some_and(|s| s.as_str().contains(','));
        let at_start = v[..all.start()].trim().is_empty();
        if address_ok(
            prefix.as_str(),
            name.as_str(),
            num.as_str(),
            marked,
            at_start,
        ) {
            return Some(all.range());
        }
    }
    None
}

/// Whether an address-shaped candidate is an address: no non-street word in the name, a house
/// number that is not a year unless marked (`, 1990`, `n. 1990`), and, inside free text, a
/// capitalised prefix and name (`Via Roma 3`, not `inviato via email il 12`).
fn address_ok(prefix: &str, name: &str, num: &str, marked: bool, at_start: bool) -> bool {
    let upper = deunicode::deunicode(name).to_ascii_uppercase();
    let stop = upper
        .split(|c: char| !c.is_ascii_alphanumeric())
        .any(|w| NOT_STREET_WORDS.contains(&w));
    if stop {
        return false;
    }
    if !marked && num.len() == 4 && (num.starts_with("19") || num.starts_with("20")) {
        return false;
    }
    if !at_start {
        let capital = |s: &str| s.chars().next().is_some_and(char::is_uppercase);
        if !capital(prefix) || !capital(name) {
            return false;
        }
    }
    true
}

/// The kinds found in one value, as a bit set over [`IdentifierKind::index`].
fn detect_bits(value: &str, phone_column: bool) -> u8 {
    let v = value.trim();
    if v.len() < 5 || is_pseudonym_shape(v) {
        return 0;
    }
    let s = shape(v.as_bytes());
    let mut bits = 0;
    if s.max_alnum_run >= 16 && s.letters >= 9 && find_tax_code(v).is_some() {
        bits |= IdentifierKind::TaxCode.bit();
    }
    if s.has_at && find_email(v).is_some() {
        bits |= IdentifierKind::Email.bit();
    }
    if v.len() >= 15 && s.digits >= 8 && s.letters >= 2 && find_iban(v).is_some() {
        bits |= IdentifierKind::Iban.bit();
    }
    if s.digits >= 6 && s.phone_start && find_phone(v, phone_column).is_some() {
        bits |= IdentifierKind::Phone.bit();
    }
    if s.digits >= 1 && s.letters >= 3 && v.len() >= 6 && find_address(v).is_some() {
        bits |= IdentifierKind::Address.bit();
    }
    bits
}

/// The direct identifier in one value, if any, also inside free text (`chiamare al 333
/// 1234567`, `CF RSSMRA85T10A562S`). Names are not detected here: a single value cannot tell a
/// surname from a word; [`ColumnScan`] finds them statistically.
///
/// When a value holds several identifiers, the first of tax code, address, phone, e-mail, IBAN
/// (the order of [`IdentifierKind::ALL`]) is returned. Pseudonyms, dates, amounts and codes are
/// not identifiers. Cheap byte checks run first, so most values never reach a regex.
pub fn detect_value(value: &str) -> Option<IdentifierKind> {
    first_kind(detect_bits(value, false))
}

fn first_kind(bits: u8) -> Option<IdentifierKind> {
    IdentifierKind::ALL
        .into_iter()
        .find(|k| bits & k.bit() != 0)
}

// ---------------------------------------------------------------------------------------------
// Names
// ---------------------------------------------------------------------------------------------

static NAMES: LazyLock<HashSet<&'static str>> = LazyLock::new(|| {
    names::ITALIAN_FIRST_NAMES
        .iter()
        .chain(names::ITALIAN_SURNAMES)
        .chain(names::FOREIGN_NAMES)
        .copied()
        .collect()
});

/// Tokens that make a two- or three-word value a place or an institution, not a person
/// (`SAN PIETRO`, `ISTITUTO ANTONIO MEUCCI`, `VILLA ANNA`).
const NOT_PERSON_WORDS: &[&str] = &[
    "SAN",
    "SANTA",
    "SANTO",
    "SANT",
    "SS",
    "MONTE",
    "PORTO",
    "CASTEL",
    "CASTELLO",
    "ISTITUTO",
    "SCUOLA",
    "LICEO",
    "ASILO",
    "NIDO",
    "CENTRO",
    "PARROCCHIA",
    "ASSOCIAZIONE",
    "COOPERATIVA",
    "COOP",
    "FONDAZIONE",
    "CIRCOLO",
    "CLUB",
    "SRL",
    "SPA",
    "SNC",
    "SAS",
    "ONLUS",
    "APS",
    "ODV",
    "COMUNE",
    "PROVINCIA",
    "REGIONE",
    "OSPEDALE",
    "POLICLINICO",
    "CASA",
    "RESIDENZA",
    "VILLA",
    "VIA",
    "VIALE",
    "PIAZZA",
    "CORSO",
    "LARGO",
    "STRADA",
    "LIVELLO",
    "ANNO",
    "TIPO",
    "CLASSE",
];

/// Whether a value is a known name as a whole, or two or three words of which at least one is a
/// known name of three letters or more (`ROSSI MARIO`, `Maria De Luca`). `buf` is scratch space.
fn is_name_value(value: &str, buf: &mut String) -> bool {
    let v = value.trim();
    if v.len() < 2 || v.len() > 48 {
        return false;
    }
    let plausible = v
        .chars()
        .all(|c| c.is_alphabetic() || matches!(c, ' ' | '\'' | '’' | '-' | ',' | '.'));
    if !plausible {
        return false;
    }
    let ascii;
    let v = if v.is_ascii() {
        v
    } else {
        ascii = deunicode::deunicode(v);
        ascii.as_str()
    };
    // Uppercase words separated by single spaces: `d'Angelo, Anna` -> `D ANGELO ANNA`.
    buf.clear();
    for w in v.split([' ', '\'', '-', ',', '.', '`']) {
        if w.is_empty() {
            continue;
        }
        if !buf.is_empty() {
            buf.push(' ');
        }
        buf.extend(w.chars().map(|c| c.to_ascii_uppercase()));
    }
    if NAMES.contains(buf.as_str()) {
        return true;
    }
    let words: Vec<&str> = buf.split(' ').collect();
    if !(2..=3).contains(&words.len()) || words.iter().any(|w| NOT_PERSON_WORDS.contains(w)) {
        return false;
    }
    words.iter().any(|w| w.len() >= 3 && NAMES.contains(w))
}

// ---------------------------------------------------------------------------------------------
// Columns and tables
// ---------------------------------------------------------------------------------------------

/// Most distinct masked examples kept per kind.
const MAX_EXAMPLES: usize = 3;
/// Attempts at finding a new distinct example per kind, so that a column whose masked values all
/// look alike does not pay for masking on every row.
const MAX_EXAMPLE_ATTEMPTS: u32 = 64;
/// Share of non-null values that must be names for a name column (30%), as a ratio.
const NAME_SHARE: (u64, u64) = (3, 10);
/// Fewest non-null values on which the name statistic is decided.
const NAME_MIN_VALUES: u64 = 5;
/// Share of non-null values that must be phone numbers in a column not named as a phone (1%).
const PHONE_SHARE: (u64, u64) = (1, 100);
/// Fewest phone numbers in a column not named as a phone.
const PHONE_MIN_COUNT: u64 = 2;
/// Distinct values per column whose verdict is remembered: categorical columns (sex, zone,
/// dates, codes) repeat a few values millions of times, and a lookup is far cheaper than the
/// detectors. The counts stay exact: a remembered value counts every time it is seen.
const MEMO_VALUES: usize = 4096;

/// What a column holds, accumulated value by value.
#[derive(Debug, Clone)]
pub struct ColumnScan {
    name: String,
    by_name: Option<IdentifierKind>,
    rows: u64,
    non_null: u64,
    counts: [u64; 6],
    examples: [Vec<String>; 6],
    attempts: [u32; 6],
    name_hits: u64,
    buf: String,
    /// Verdicts of values already seen: (detector bits, is a name).
    memo: std::collections::HashMap<Box<str>, (u8, bool)>,
}

impl ColumnScan {
    /// An empty scan of the column called `name` (its name is itself evidence, see
    /// [`kind_from_column_name`]).
    pub fn new(name: impl Into<String>) -> ColumnScan {
        let name = name.into();
        let by_name = kind_from_column_name(&name);
        ColumnScan {
            name,
            by_name,
            rows: 0,
            non_null: 0,
            counts: [0; 6],
            examples: Default::default(),
            attempts: [0; 6],
            name_hits: 0,
            buf: String::new(),
            memo: std::collections::HashMap::new(),
        }
    }

    /// The column's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The kind the column's name announces, if any.
    pub fn kind_by_name(&self) -> Option<IdentifierKind> {
        self.by_name
    }

    /// Adds one cell. `None` and blank strings count as nulls.
    pub fn observe(&mut self, value: Option<&str>) {
        self.rows += 1;
        let Some(value) = value else { return };
        if value.trim().is_empty() {
            return;
        }
        self.non_null += 1;
        let (bits, name) = match self.memo.get(value) {
            Some(&v) => v,
            None => {
                let phone_column = self.by_name == Some(IdentifierKind::Phone);
                let v = (
                    detect_bits(value, phone_column),
                    is_name_value(value, &mut self.buf),
                );
                if self.memo.len() < MEMO_VALUES {
                    self.memo.insert(value.into(), v);
                }
                v
            }
        };
        if bits != 0 {
            for kind in IdentifierKind::ALL {
                if bits & kind.bit() != 0 {
                    self.counts[kind.index()] += 1;
                    self.add_example(kind, value);
                }
            }
        }
        if name {
            self.name_hits += 1;
            self.add_example(IdentifierKind::Name, value);
        }
    }

    fn add_example(&mut self, kind: IdentifierKind, value: &str) {
        let i = kind.index();
        if self.examples[i].len() >= MAX_EXAMPLES || self.attempts[i] >= MAX_EXAMPLE_ATTEMPTS {
            return;
        }
        self.attempts[i] += 1;
        let masked = mask(value, kind);
        if !self.examples[i].contains(&masked) {
            self.examples[i].push(masked);
        }
    }

    /// Cells observed, nulls included.
    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// Non-null, non-blank cells observed.
    pub fn non_null(&self) -> u64 {
        self.non_null
    }

    /// Values in which `kind` was found ([`IdentifierKind::Name`]: values that are names).
    pub fn count(&self, kind: IdentifierKind) -> u64 {
        match kind {
            IdentifierKind::Name => self.name_hits,
            _ => self.counts[kind.index()],
        }
    }

    /// Whether the values make this a name column: at least 30% of at least 5 non-null values
    /// are names. Decided on all scanned values, so on 20 or more whenever the column has them.
    fn is_name_column(&self) -> bool {
        self.non_null >= NAME_MIN_VALUES
            && self.name_hits * NAME_SHARE.1 >= self.non_null * NAME_SHARE.0
    }

    /// Whether the values alone make a finding of `kind`.
    fn found_by_values(&self, kind: IdentifierKind) -> bool {
        let count = self.count(kind);
        match kind {
            IdentifierKind::Name => self.is_name_column(),
            IdentifierKind::Phone if self.by_name != Some(IdentifierKind::Phone) => {
                count >= PHONE_MIN_COUNT && count * PHONE_SHARE.1 >= self.non_null * PHONE_SHARE.0
            }
            _ => count > 0,
        }
    }

    /// The findings for this column, in the order of [`IdentifierKind::ALL`].
    ///
    /// Tax codes, addresses, e-mails and IBANs: any value. Phones: any value in a column named as
    /// a phone, otherwise at least 2 values and 1% of non-null values. Names: the statistical
    /// rule. Whatever the values, a column whose name announces a kind is a finding of that kind
    /// with `by_name` set (possibly with count 0, e.g. a `cf` column holding pseudonyms).
    pub fn finish(self) -> Vec<Finding> {
        let mut findings = Vec::new();
        for kind in IdentifierKind::ALL {
            let by_name = self.by_name == Some(kind);
            let by_values = self.found_by_values(kind);
            // A column named like a street whose values carry no house number is a list of
            // streets (a street table, a territorial lookup), not of addresses.
            let streets_only =
                kind == IdentifierKind::Address && self.non_null > 0 && self.count(kind) == 0;
            if !by_values && (!by_name || streets_only) {
                continue;
            }
            findings.push(Finding {
                column: self.name.clone(),
                kind,
                count: self.count(kind),
                scanned: self.non_null,
                by_name,
                examples: self.examples[kind.index()].clone(),
            });
        }
        findings
    }
}

/// One identifier finding in one column.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// The column's name.
    pub column: String,
    /// What was found.
    pub kind: IdentifierKind,
    /// Values holding the identifier (for names: values that are names).
    pub count: u64,
    /// Non-null values scanned in the column.
    pub scanned: u64,
    /// Whether the column's name announces this kind (the finding stands even with no value).
    pub by_name: bool,
    /// Up to three distinct masked examples (see [`mask`]).
    pub examples: Vec<String>,
}

/// A scan of a whole table, fed row by row ([`TableScan::observe`]) or column by column
/// ([`TableScan::observe_value`]).
#[derive(Debug, Clone)]
pub struct TableScan {
    columns: Vec<ColumnScan>,
}

impl TableScan {
    /// An empty scan of a table with these column names.
    pub fn new(columns: Vec<String>) -> TableScan {
        TableScan {
            columns: columns.into_iter().map(ColumnScan::new).collect(),
        }
    }

    /// Adds one row. Missing trailing cells count as nulls; cells past the last known column
    /// are scanned too, under new columns named `column_<n>` (1-based), so that a ragged file
    /// cannot hide an identifier.
    pub fn observe(&mut self, row: &[Option<&str>]) {
        while self.columns.len() < row.len() {
            let n = self.columns.len() + 1;
            self.columns.push(ColumnScan::new(format!("column_{n}")));
        }
        for (i, column) in self.columns.iter_mut().enumerate() {
            column.observe(row.get(i).copied().flatten());
        }
    }

    /// Adds one non-null cell of column `col` (for readers that deliver columns). A `col` past
    /// the known columns adds columns named `column_<n>`.
    pub fn observe_value(&mut self, col: usize, value: &str) {
        self.column_mut(col).observe(Some(value));
    }

    /// Adds one null cell of column `col`.
    pub fn observe_null(&mut self, col: usize) {
        self.column_mut(col).observe(None);
    }

    fn column_mut(&mut self, col: usize) -> &mut ColumnScan {
        while self.columns.len() <= col {
            let n = self.columns.len() + 1;
            self.columns.push(ColumnScan::new(format!("column_{n}")));
        }
        &mut self.columns[col]
    }

    /// The per-column accumulators.
    pub fn columns(&self) -> &[ColumnScan] {
        &self.columns
    }

    /// All findings, column by column in table order.
    pub fn finish(self) -> Vec<Finding> {
        self.columns
            .into_iter()
            .flat_map(ColumnScan::finish)
            .collect()
    }
}

#[cfg(test)]
mod street_tests {
    use super::*;

    #[test]
    fn a_column_of_street_names_is_not_a_column_of_addresses() {
        let mut c = ColumnScan::new("street");
        for v in [
            "VIA SANTA CHIARA",
            "VIALE MARTIRI DELLA LIBERTA",
            "PIAZZA GRANDE",
        ] {
            c.observe(Some(v));
        }
        assert!(c.finish().is_empty());
        let mut c = ColumnScan::new("indirizzo");
        c.observe(Some("VIA SANTA CHIARA, 57"));
        let f = c.finish();
        assert_eq!(
            (f.len(), f[0].kind, f[0].by_name),
            (1, IdentifierKind::Address, true)
        );
        // An empty column named like an address still tells: nothing to look at, so be strict.
        let mut c = ColumnScan::new("indirizzo");
        c.observe(None);
        assert_eq!(c.finish().len(), 1);
    }
}

// ---------------------------------------------------------------------------------------------
// Masking
// ---------------------------------------------------------------------------------------------

/// Characters of context kept on each side of an identifier found inside free text.
const CONTEXT_CHARS: usize = 15;

/// A printable example of `value` as an identifier of `kind`: enough to recognise the shape,
/// never enough to identify.
///
/// - tax code: first 3 and last character (`RSS************S`);
/// - e-mail: first character of the user and of the domain, and the top-level domain
///   (`m***@e******.it`);
/// - phone: `+39` if present, first 3 and last 2 digits (`+39 333 *****67`);
/// - IBAN: country, check digits and last 2 characters (`IT60*********************56`);
/// - name: first letter of each word (`R**** M****`);
/// - address: the street prefix (`VIA ***** ******, **`).
///
/// When the identifier sits inside free text only the matched part is masked this way, the text
/// is cut to about 15 characters on each side, and in that context digits become `*` and
/// capitalised words keep only their first letter (they may be names).
pub fn mask(value: &str, kind: IdentifierKind) -> String {
    let span = match kind {
        IdentifierKind::TaxCode => find_tax_code(value),
        IdentifierKind::Email => find_email(value),
        IdentifierKind::Iban => find_iban(value),
        IdentifierKind::Phone => find_phone(value, true),
        IdentifierKind::Address => find_address(value),
        IdentifierKind::Name => None,
    };
    let Some(span) = span else {
        return mask_part(value.trim(), kind);
    };
    let before = &value[..span.start];
    let after = &value[span.end..];
    let masked = mask_part(&value[span.clone()], kind);
    if before.trim().is_empty() && after.trim().is_empty() {
        return masked;
    }
    let mut out = String::new();
    // Context before: the last CONTEXT_CHARS characters, without a word cut in half.
    let chars: Vec<char> = before.chars().collect();
    let mut cut = chars.len().saturating_sub(CONTEXT_CHARS);
    if cut > 0 {
        while cut < chars.len() && chars[cut - 1].is_alphanumeric() {
            cut += 1;
        }
        out.push('…');
    }
    let kept: String = chars[cut..].iter().collect();
    let kept = if cut > 0 {
        kept.trim_start()
    } else {
        kept.as_str()
    };
    out.push_str(&mask_context(kept));
    out.push_str(&masked);
    // Context after: the first CONTEXT_CHARS characters, without a word cut in half.
    let chars: Vec<char> = after.chars().collect();
    let mut end = chars.len().min(CONTEXT_CHARS);
    if end < chars.len() {
        while end > 0 && chars[end].is_alphanumeric() && chars[end - 1].is_alphanumeric() {
            end -= 1;
        }
    }
    let kept: String = chars[..end].iter().collect();
    let cut_after = end < chars.len();
    out.push_str(&mask_context(if cut_after {
        kept.trim_end()
    } else {
        &kept
    }));
    if cut_after {
        out.push('…');
    }
    out
}

/// Masks the context around an identifier in free text: digits become `*`, words starting with
/// an uppercase letter keep only that letter. Lowercase prose is kept.
fn mask_context(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut in_capital_word = false;
    let mut prev_alnum = false;
    for c in text.chars() {
        if c.is_alphanumeric() {
            if !prev_alnum {
                in_capital_word = c.is_uppercase();
                out.push(if c.is_ascii_digit() { '*' } else { c });
            } else if in_capital_word || c.is_ascii_digit() {
                out.push('*');
            } else {
                out.push(c);
            }
            prev_alnum = true;
        } else {
            out.push(c);
            prev_alnum = false;
            in_capital_word = false;
        }
    }
    out
}

/// Masks an identifier that is the whole of `part`.
fn mask_part(part: &str, kind: IdentifierKind) -> String {
    match kind {
        IdentifierKind::TaxCode => keep_ends(part, 3, 1),
        IdentifierKind::Email => mask_email(part),
        IdentifierKind::Phone => mask_phone(part),
        IdentifierKind::Iban => {
            let compact: String = part.chars().filter(|c| !c.is_whitespace()).collect();
            keep_ends(&compact.to_uppercase(), 4, 2)
        }
        IdentifierKind::Name => part
            .split_whitespace()
            .map(|w| keep_ends(w, 1, 0))
            .collect::<Vec<_>>()
            .join(" "),
        IdentifierKind::Address => mask_address(part),
    }
}

/// Keeps the first `head` and last `tail` alphanumeric characters, masks the other alphanumeric
/// ones with `*`; punctuation is kept. Values too short to hide anything are masked entirely.
fn keep_ends(s: &str, head: usize, tail: usize) -> String {
    let total = s.chars().filter(|c| c.is_alphanumeric()).count();
    let (head, tail) = if total <= head + tail + 2 {
        (total.min(1).min(head), 0)
    } else {
        (head, tail)
    };
    let mut seen = 0;
    s.chars()
        .map(|c| {
            if !c.is_alphanumeric() {
                return c;
            }
            seen += 1;
            if seen <= head || seen > total - tail {
                c
            } else {
                '*'
            }
        })
        .collect()
}

fn mask_email(part: &str) -> String {
    let Some((user, domain)) = part.rsplit_once('@') else {
        return "*".repeat(part.chars().count());
    };
    let user_first: String = user.chars().take(1).collect();
    let (host, tld) = domain.rsplit_once('.').unwrap_or((domain, ""));
    let host_first: String = host.chars().take(1).collect();
    let host_rest = host.chars().count().saturating_sub(1);
    let mut out = format!("{user_first}***@{host_first}{}", "*".repeat(host_rest));
    if !tld.is_empty() {
        out.push('.');
        out.push_str(tld);
    }
    out
}

fn mask_phone(part: &str) -> String {
    let trimmed = part.trim_start();
    let prefix_len = ["+39", "0039"]
        .iter()
        .find(|p| trimmed.starts_with(*p))
        .map_or(0, |p| p.len());
    let (prefix, national) = trimmed.split_at(prefix_len);
    let digits = national.chars().filter(char::is_ascii_digit).count();
    let (head, tail) = if digits > 7 { (3, 2) } else { (0, 0) };
    let mut seen = 0;
    let masked: String = national
        .chars()
        .map(|c| {
            if !c.is_ascii_digit() {
                return c;
            }
            seen += 1;
            if seen <= head || seen > digits - tail {
                c
            } else {
                '*'
            }
        })
        .collect();
    format!("{prefix}{masked}")
}

fn mask_address(part: &str) -> String {
    let prefix_len = ADDRESS
        .captures(part)
        .and_then(|c| c.name("prefix"))
        .filter(|p| p.start() == 0)
        .map_or(0, |p| p.end());
    let (prefix, rest) = part.split_at(prefix_len);
    let masked: String = rest
        .chars()
        .map(|c| if c.is_alphanumeric() { '*' } else { c })
        .collect();
    format!("{prefix}{masked}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use IdentifierKind::*;

    fn check_column(name: &str, expect: Option<IdentifierKind>) {
        assert_eq!(kind_from_column_name(name), expect, "column name {name:?}");
    }

    #[test]
    fn column_names_positive() {
        for n in [
            "CODICE_FISCALE",
            "CF",
            "cf",
            "CF_BENEFICIARIO",
            "cf_richiedente",
            "COD_FISC",
            "codfisc",
            "CodFisc",
            "codiceFiscale",
            "tax_code",
            "fiscal_code",
            "SSN",
            "cf2",
        ] {
            check_column(n, Some(TaxCode));
        }
        for n in [
            "COGNOME",
            "NOME",
            "surname",
            "first_name",
            "firstName",
            "FIRSTNAME",
            "last_name",
            "name",
            "Name",
            "nominativo",
            "full_name",
            "nome_beneficiario",
            "cognome_richiedente",
            "COGNOME_NOME",
            "nome e cognome",
            "applicant_name",
            "NOME_GENITORE",
        ] {
            check_column(n, Some(Name));
        }
        for n in [
            "INDIRIZZO",
            "indirizzo_residenza",
            "residenza_indirizzo",
            "via",
            "VIA_RESIDENZA",
            "address",
            "street",
            "streetAddress",
        ] {
            check_column(n, Some(Address));
        }
        for n in [
            "TELEFONO",
            "tel",
            "cellulare",
            "phone",
            "mobile",
            "fax",
            "telefono2",
            "recapito_telefonico",
            "phoneNumber",
        ] {
            check_column(n, Some(Phone));
        }
        for n in [
            "EMAIL",
            "e-mail",
            "e_mail",
            "mail",
            "PEC",
            "email_address",
            "indirizzo_email",
            "posta_elettronica",
        ] {
            check_column(n, Some(Email));
        }
        for n in ["IBAN", "iban_beneficiario", "codice_iban"] {
            check_column(n, Some(Iban));
        }
    }

    #[test]
    fn column_names_negative() {
        for n in [
            "zone",
            "zona",
            "district",
            "area",
            "measure",
            "person_pid",
            "household_pid",
            "birth_place",
            "sector",
            "ateco_section",
            "breakdown_value",
            "DESCRIZIONE_SETTORE",
            "TIPO_INTERVENTO",
            "file_name",
            "indicator_name",
            "zone_name",
            "sheet_name",
            "nome_comune",
            "NOME_ZONA",
            "name_it",
            "ip_address",
            "hotel",
            "civico_pid",
        ] {
            check_column(n, None);
        }
        // a pseudonymized tax-code column is still announced by its name: the spec declares it
        check_column("cf_pid_version", Some(TaxCode));
        check_column("", None);
    }

    #[test]
    fn identifier_kind_strings() {
        let strs: Vec<&str> = IdentifierKind::ALL.iter().map(|k| k.as_str()).collect();
        assert_eq!(
            strs,
            ["tax_code", "name", "address", "phone", "email", "iban"]
        );
        assert_eq!(Phone.to_string(), "phone");
        assert_eq!(
            serde_json::to_string(&TaxCode).ok().as_deref(),
            Some("\"tax_code\"")
        );
    }

    fn check_value(value: &str, expect: Option<IdentifierKind>) {
        assert_eq!(detect_value(value), expect, "value {value:?}");
    }

    #[test]
    fn tax_codes() {
        check_value("RSSMRA85T10A562S", Some(TaxCode));
        check_value("rssmra85t10a562s", Some(TaxCode));
        check_value("RSSMRA85T10A562X", Some(TaxCode)); // wrong check character
        check_value("RSSMRAURTMLARSNS", Some(TaxCode)); // full omocodia
        check_value("CF RSSMRA85T10A562S", Some(TaxCode));
        check_value("nota: cf rssmra85t10a562s verificato", Some(TaxCode));
        check_value(" VRDLGU70A01F257K ", Some(TaxCode));
        check_value("RSSMRA85T10A562", None); // 15 characters
        check_value("XRSSMRA85T10A562S", None); // 17 characters
        check_value("RSSMRA85Z10A562S", None); // Z is no month
    }

    #[test]
    fn emails() {
        check_value("mario.rossi@example.it", Some(Email));
        check_value("MARIO_ROSSI+caf@pec.comune.modena.it", Some(Email));
        check_value(
            "scrivere a mario.rossi@example.it entro lunedì",
            Some(Email),
        );
        check_value("@example", None);
        check_value("a @ b", None);
        check_value("mario@localhost", None);
    }

    #[test]
    fn ibans() {
        check_value("IT60X0542811101000000123456", Some(Iban));
        check_value("IT60 X054 2811 1010 0000 0123 456", Some(Iban));
        check_value("it60x0542811101000000123456", Some(Iban));
        check_value("IT99X0542811101000000123456", Some(Iban)); // wrong check digits: still Italian
        check_value(
            "accredito su IT60X0542811101000000123456 dal 1/3",
            Some(Iban),
        );
        check_value("DE89370400440532013000", Some(Iban));
        check_value("GB29 NWBK 6016 1331 9268 19", Some(Iban));
        check_value("FR1420041010050500013M02606", Some(Iban));
        check_value("DE89370400440532013001", None); // fails mod 97
        check_value("XX89370400440532013000", None); // no such country
        check_value("IT60X054281110100000012345", None); // one short
    }

    #[test]
    fn phones() {
        for v in [
            "+39 333 1234567",
            "3331234567",
            "333 1234567",
            "333-123-4567",
            "333.1234567",
            "0039 3331234567",
            "+393331234567",
            "059 203111",
            "059/203111",
            "(059) 203111",
            "02 12345678",
            "+39 059 203111",
            "chiamare al 333 1234567",
            "tel. 059203111",
            "Tel:0592031111",
            "cell 333123456",
            "chiamare al 333 1234567.",
        ] {
            check_value(v, Some(Phone));
        }
        for v in [
            "2019-01-15",
            "15/01/2019",
            "15.01.2019",
            "01.02.2019",
            "01/02/2019",
            "1.234,56",
            "350.000.000",
            "320.000,00",
            "3500",
            "2019",
            "059203111",  // landline without separator nor context
            "333123456",  // 9-digit mobile without separator nor context
            "0000012345", // zero-padded id
            "A01000001",
            "INPS-ISEE-2019-01000024M-00",
            "GOL-2022-0000001",
            "ERP/2019/00001",
            "CS2019000001",
            "id 3331234567890",
            "+41 44 123 45 67",
            "33312345678901",
        ] {
            check_value(v, None);
        }
        assert!(find_phone("059203111", true).is_some());
        assert!(find_phone("333123456", true).is_some());
    }

    #[test]
    fn addresses() {
        for v in [
            "VIA SANTA CHIARA, 57",
            "Via S. Chiara 57/A",
            "V.LE MARTIRI DELLA LIBERTÀ N. 12",
            "P.ZZA GRANDE 1",
            "P.ZA MATTEOTTI 3",
            "piazza grande 1",
            "CORSO CANALGRANDE 22B",
            "C.SO VITTORIO EMANUELE II, 104",
            "LARGO GARIBALDI 5",
            "STRADA MORANE 500",
            "STR. VAGHI 12",
            "VICOLO SANT'EUFEMIA 4",
            "LOC. CASETTE 3",
            "Località Casette 3",
            "VIA DEL TAGLIO 22/1",
            "VIA DELLA PACE, 3",
            "V. GIARDINI 470",
            "residente in Via Emilia Est 1200 Modena",
            "VIA EMILIA, 1990",
        ] {
            check_value(v, Some(Address));
        }
        for v in [
            "VIA ROMA",
            "VIAGGIO 3 GIORNI",
            "inviato via email il 12 marzo",
            "CORSO DI ITALIANO LIVELLO 2",
            "CORSO DI FORMAZIONE 2019",
            "in corso 3 pratiche",
            "LARGO 12",
            "percorso 3",
            "Z01",
            "Q2",
            "F257",
            "CONTRIBUTO AFFITTO 2019",
            "PAGAMENTO VIA BONIFICO 2 RATE",
            "CONTATTATO VIA TELEFONO 3 VOLTE",
            "INVIATO VIA PEC IL 12/03",
        ] {
            check_value(v, None);
        }
    }

    #[test]
    fn non_identifiers() {
        for v in [
            "p1.abcdefghijklmnopqrstuvwxyz",
            "w1.abcdefghijklmnopqrstuvwx22",
            "p12.aaaaaaaaaaaaaaaaaaaaaaaaaa",
            "2019-01-15",
            "2019-01-15T10:30:00",
            "1.234,56",
            "-1234.56",
            "Z01",
            "Q2",
            "F257",
            "A01000001",
            "INPS-ISEE-2019-01000024M-00",
            "GOL-2022-0000001",
            "ERP/2019/00001",
            "CS2019000001",
            "COMMERCIO AL DETTAGLIO",
            "",
            "   ",
            "41121",
            "036023",
            "true",
        ] {
            check_value(v, None);
        }
    }

    /// Deterministic pseudo-random numbers for synthetic data (xorshift64*).
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
        }
        fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }
    }

    const B32: &[u8] = b"abcdefghijklmnopqrstuvwxyz234567";

    /// A typical non-identifying value of the kind datalab's tables hold.
    fn typical_value(rng: &mut Rng) -> String {
        match rng.below(16) {
            0 => format!(
                "{}-{:02}-{:02}",
                1930 + rng.below(95),
                1 + rng.below(12),
                1 + rng.below(28)
            ),
            1 => format!(
                "{:02}/{:02}/{}",
                1 + rng.below(28),
                1 + rng.below(12),
                1990 + rng.below(35)
            ),
            2 => {
                let euros = rng.below(5_000_000);
                let thousands = euros / 1000;
                if thousands > 0 {
                    format!("{thousands}.{:03},{:02}", euros % 1000, rng.below(100))
                } else {
                    format!("{euros},{:02}", rng.below(100))
                }
            }
            3 => format!("{}.{:02}", rng.below(10_000_000), rng.below(100)),
            4 => format!("{}", rng.below(10_000_000_000)),
            5 => format!("{}", 1900 + rng.below(130)),
            6 => {
                let mut s = String::from(if rng.below(2) == 0 { "p1." } else { "w1." });
                for _ in 0..26 {
                    s.push(B32[rng.below(32) as usize] as char);
                }
                s
            }
            7 => format!(
                "INPS-ISEE-{}-{:08}M-00",
                2015 + rng.below(10),
                rng.below(100_000_000)
            ),
            8 => format!("GOL-{}-{:07}", 2020 + rng.below(5), rng.below(10_000_000)),
            9 => format!("ERP/{}/{:05}", 2010 + rng.below(15), rng.below(100_000)),
            10 => format!("CS{}{:06}", 2010 + rng.below(15), rng.below(1_000_000)),
            11 => format!(
                "{}{:02}",
                ["Z", "Q", "F", "A", "B"][rng.below(5) as usize],
                rng.below(100)
            ),
            12 => format!("A{:08}", rng.below(100_000_000)),
            13 => [
                "CONTRIBUTO AFFITTO",
                "ASSEGNO DI INCLUSIONE",
                "COMMERCIO AL DETTAGLIO",
                "ASSISTENZA DOMICILIARE",
                "CORSO DI ITALIANO LIVELLO 2",
                "Centro storico",
                "MODENA",
                "F",
                "M",
                "ITALIA",
                "ROMANIA",
                "in attesa di documentazione",
            ][rng.below(12) as usize]
                .to_string(),
            14 => format!("{:06}", rng.below(1_000_000)),
            _ => format!("{}:{:02}", rng.below(24), rng.below(60)),
        }
    }

    #[test]
    fn detect_value_on_typical_values() {
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        let mut flagged = Vec::new();
        for _ in 0..200_000 {
            let v = typical_value(&mut rng);
            if let Some(kind) = detect_value(&v) {
                flagged.push((v, kind));
            }
        }
        // Only plain 10-digit numbers that look exactly like mobiles (3[1-9]x........) may be
        // flagged; they are counted per column and a non-phone column needs 1% of them.
        for (v, kind) in &flagged {
            assert_eq!(*kind, Phone, "{v:?}");
            assert!(v.len() == 10 && v.starts_with('3'), "{v:?}");
        }
    }

    #[test]
    fn names_by_value() {
        let mut buf = String::new();
        for v in [
            "ROSSI",
            "Mario",
            "ROSSI MARIO",
            "Maria De Luca",
            "D'ANGELO ANNA",
            "Nicolò Bianchi",
            "POPESCU ION",
            "HOXHA ARBEN",
            "SINGH GURPREET",
            "ROSSI, MARIO",
            "DIOP MAMADOU",
        ] {
            assert!(is_name_value(v, &mut buf), "{v:?}");
        }
        for v in [
            "COMMERCIO AL DETTAGLIO",
            "SAN PIETRO",
            "ISTITUTO ANTONIO MEUCCI",
            "MODENA",
            "ROSSI MARIO 12",
            "UNO DUE TRE QUATTRO MARIO",
            "ASSEGNO DI INCLUSIONE",
            "",
            "M",
        ] {
            assert!(!is_name_value(v, &mut buf), "{v:?}");
        }
    }

    #[test]
    fn name_lists_are_clean() {
        for list in [
            names::ITALIAN_FIRST_NAMES,
            names::ITALIAN_SURNAMES,
            names::FOREIGN_NAMES,
        ] {
            let mut seen = HashSet::new();
            for n in list {
                assert!(seen.insert(n), "duplicate {n}");
                assert!(
                    n.bytes().all(|b| b.is_ascii_uppercase() || b == b' '),
                    "{n:?} must be uppercase ASCII"
                );
            }
        }
        assert!(names::ITALIAN_FIRST_NAMES.len() >= 300);
        assert!(names::ITALIAN_SURNAMES.len() >= 290);
        assert!(names::FOREIGN_NAMES.len() >= 150);
    }

    fn scan_column(name: &str, values: &[&str]) -> Vec<Finding> {
        let mut scan = TableScan::new(vec![name.to_string()]);
        for v in values {
            scan.observe(&[Some(v)]);
        }
        scan.finish()
    }

    fn kinds(findings: &[Finding]) -> Vec<(IdentifierKind, bool)> {
        findings.iter().map(|f| (f.kind, f.by_name)).collect()
    }

    #[test]
    fn name_columns_statistically() {
        let people = [
            "ROSSI MARIO",
            "BIANCHI ANNA",
            "MALAGOLI LUCA",
            "ZXQWY KLMNO",
            "POPESCU ION",
            "VERDI GIUSEPPE",
        ];
        let f = scan_column("col_a", &people);
        assert_eq!(kinds(&f), [(Name, false)]);
        assert_eq!(f[0].count, 5);
        assert_eq!(f[0].scanned, 6);
        assert_eq!(f[0].examples.len(), 3);
        assert!(f[0].examples.iter().all(|e| !e.contains("ROSSI")));

        // 4 names in 20 values (20%) is not a name column.
        let mut values = vec!["COMMERCIO"; 16];
        values.extend(["ROSSI", "ANNA", "LUCA", "MARIA"]);
        assert!(scan_column("desc", &values).is_empty());
        // 6 in 20 (30%) is.
        values[0] = "BIANCHI";
        values[1] = "GIULIA";
        assert_eq!(kinds(&scan_column("desc", &values)), [(Name, false)]);
        // Fewer than 5 values: never decided on values alone.
        assert!(scan_column("x", &["ROSSI", "MARIO", "ANNA", "LUCA"]).is_empty());
        // ... but a name column is announced by its name.
        assert_eq!(kinds(&scan_column("COGNOME", &["ROSSI"])), [(Name, true)]);
    }

    #[test]
    fn thresholds_per_kind() {
        // A single tax code among many values is a finding.
        let mut values = vec!["nessuna nota"; 999];
        values.push("CF RSSMRA85T10A562S");
        let f = scan_column("NOTE", &values);
        assert_eq!(kinds(&f), [(TaxCode, false)]);
        assert_eq!((f[0].count, f[0].scanned), (1, 1000));
        assert_eq!(f[0].examples, ["C* RSS************S"]);

        // One phone-like number in 1000 values of an unnamed column is not.
        let mut values = vec!["12"; 999];
        values.push("3331234567");
        assert!(scan_column("importo", &values).is_empty());
        // Ten in 1000 (1%) is.
        let mut values = vec!["12"; 990];
        values.extend(["3331234567"; 10]);
        assert_eq!(kinds(&scan_column("importo", &values)), [(Phone, false)]);
        // In a phone column one is enough, and landlines need no separator.
        let f = scan_column("TELEFONO", &["059203111", "", "n.d."]);
        assert_eq!(kinds(&f), [(Phone, true)]);
        assert_eq!((f[0].count, f[0].scanned), (1, 2));

        // Address and e-mail and IBAN: any value.
        assert_eq!(
            kinds(&scan_column("x", &["VIA ROMA 3", "", ""])),
            [(Address, false)]
        );
        assert_eq!(kinds(&scan_column("x", &["a.b@c.it"])), [(Email, false)]);
        assert_eq!(
            kinds(&scan_column("x", &["IT60X0542811101000000123456"])),
            [(Iban, false)]
        );
    }

    #[test]
    fn pseudonym_columns() {
        let values = [
            "p1.abcdefghijklmnopqrstuvwxyz",
            "p1.bbcdefghijklmnopqrstuvwxyz",
            "p1.cbcdefghijklmnopqrstuvwxyz",
            "p1.dbcdefghijklmnopqrstuvwxyz",
            "p1.ebcdefghijklmnopqrstuvwxyz",
        ];
        assert!(scan_column("person_pid", &values).is_empty());
        let f = scan_column("cf", &values);
        assert_eq!(kinds(&f), [(TaxCode, true)]);
        assert_eq!(f[0].count, 0);
        assert!(f[0].examples.is_empty());
        // Empty column named as an identifier is still a finding.
        let f = scan_column("EMAIL", &[]);
        assert_eq!(kinds(&f), [(Email, true)]);
        assert_eq!(f[0].scanned, 0);
    }

    #[test]
    fn table_scan_rows_and_columns() {
        let mut scan = TableScan::new(vec!["id".into(), "note".into()]);
        scan.observe(&[Some("1"), Some("scrivere a mario.rossi@example.it")]);
        scan.observe(&[Some("2")]);
        scan.observe(&[Some("3"), None, Some("RSSMRA85T10A562S")]);
        scan.observe_value(1, "VIA ROMA 3");
        scan.observe_null(0);
        assert_eq!(scan.columns().len(), 3);
        assert_eq!(scan.columns()[1].rows(), 4);
        assert_eq!(scan.columns()[1].non_null(), 2);
        assert_eq!(scan.columns()[0].rows(), 4);
        let f = scan.finish();
        let got: Vec<(&str, IdentifierKind, u64)> = f
            .iter()
            .map(|f| (f.column.as_str(), f.kind, f.count))
            .collect();
        assert_eq!(
            got,
            [
                ("note", Address, 1),
                ("note", Email, 1),
                ("column_3", TaxCode, 1)
            ]
        );
        let json = serde_json::to_value(&f[1]).ok();
        assert_eq!(
            json.as_ref()
                .and_then(|j| j.get("kind"))
                .and_then(|k| k.as_str()),
            Some("email")
        );
    }

    #[test]
    fn examples_are_distinct_and_at_most_three() {
        let values = [
            "RSSMRA85T10A562S",
            "RSSMRA85T10A562S",
            "BNCNNA90A41F257X",
            "VRDGPP60C12H501Z",
            "MLGLCU77D15F257Q",
        ];
        let f = scan_column("x", &values);
        assert_eq!(f[0].count, 5);
        assert_eq!(
            f[0].examples,
            ["RSS************S", "BNC************X", "VRD************Z"]
        );
    }

    /// No 4 consecutive characters of the hidden part of `ident` (between the kept head and tail)
    /// appear in `masked`, and `ident` itself does not.
    fn assert_hidden(ident: &str, head: usize, tail: usize, masked: &str) {
        let chars: Vec<char> = ident.chars().filter(|c| c.is_alphanumeric()).collect();
        let hidden = &chars[head..chars.len() - tail];
        assert!(!masked.contains(ident), "{masked:?} contains {ident:?}");
        for w in hidden.windows(4) {
            let w: String = w.iter().collect();
            assert!(!masked.contains(&w), "{masked:?} leaks {w:?} of {ident:?}");
        }
    }

    #[test]
    fn masking() {
        let cases = [
            ("RSSMRA85T10A562S", TaxCode, "RSS************S"),
            ("mario.rossi@example.it", Email, "m***@e******.it"),
            ("+39 333 1234567", Phone, "+39 333 *****67"),
            ("3331234567", Phone, "333*****67"),
            ("059 203111", Phone, "059 ****11"),
            (
                "IT60X0542811101000000123456",
                Iban,
                "IT60*********************56",
            ),
            (
                "IT60 X054 2811 1010 0000 0123 456",
                Iban,
                "IT60*********************56",
            ),
            ("ROSSI MARIO", Name, "R**** M****"),
            ("VIA SANTA CHIARA, 57", Address, "VIA ***** ******, **"),
            ("P.ZZA GRANDE 1", Address, "P.ZZA ****** *"),
        ];
        for (value, kind, expect) in cases {
            assert_eq!(mask(value, kind), expect, "{value:?}");
        }
        assert_hidden("RSSMRA85T10A562S", 3, 1, &mask("RSSMRA85T10A562S", TaxCode));
        assert_hidden("3331234567", 3, 2, &mask("3331234567", Phone));
        assert_hidden(
            "IT60X0542811101000000123456",
            4,
            2,
            &mask("IT60X0542811101000000123456", Iban),
        );
        assert_hidden("mariorossi", 1, 0, &mask("mario.rossi@example.it", Email));
        assert_hidden(
            "SANTACHIARA57",
            0,
            0,
            &mask("VIA SANTA CHIARA, 57", Address),
        );
    }

    #[test]
    fn masking_in_free_text() {
        let m = mask("chiamare al 333 1234567 dopo le 18", Phone);
        assert_eq!(m, "chiamare al 333 *****67 dopo le **");
        let m = mask(
            "Il sig. Rossi Mario ha comunicato il CF RSSMRA85T10A562S allo sportello di via Roma",
            TaxCode,
        );
        assert_eq!(m, "…il C* RSS************S allo sportello…");
        assert!(!m.contains("Rossi") && !m.contains("Roma"));
        assert_hidden("RSSMRA85T10A562S", 3, 1, &m);
        let m = mask("scrivere a mario.rossi@example.it", Email);
        assert_eq!(m, "scrivere a m***@e******.it");
        // Another identifier in the context does not leak through it.
        let m = mask("CF RSSMRA85T10A562S tel 3331234567", TaxCode);
        assert!(!m.contains("1234567"), "{m}");
    }

    #[test]
    fn mask_short_values_hides_everything_but_one_char() {
        assert_eq!(mask("ABC", TaxCode), "A**");
        assert_eq!(mask("12345", Phone), "*****");
        assert_eq!(mask("x", Email), "*");
    }

    #[test]
    #[ignore = "micro-benchmark: cargo test -p datalab-pseudo --lib scan::tests::bench -- --ignored --nocapture"]
    fn bench_observe_1m_rows() {
        let mut rng = Rng(42);
        let rows: Vec<[String; 6]> = (0..1_000_000)
            .map(|i| {
                [
                    format!(
                        "p1.{}",
                        format!("{i:026}").replace(['0', '1', '8', '9'], "a")
                    ),
                    typical_value(&mut rng),
                    format!("{}-{:02}-{:02}", 1950 + i % 70, 1 + i % 12, 1 + i % 28),
                    format!("{},{:02}", i % 5000, i % 100),
                    ["CONTRIBUTO AFFITTO", "ASSEGNO DI INCLUSIONE", "SAD"][i % 3].to_string(),
                    format!("Z{:02}", i % 40),
                ]
            })
            .collect();
        let names = ["pid", "misc", "data", "importo", "tipo", "zona"];
        let mut scan = TableScan::new(names.iter().map(|s| s.to_string()).collect());
        let start = std::time::Instant::now();
        for row in &rows {
            let cells: [Option<&str>; 6] = std::array::from_fn(|i| Some(row[i].as_str()));
            scan.observe(&cells);
        }
        let elapsed = start.elapsed();
        let cells = rows.len() * 6;
        println!(
            "observe: {} cells in {:?}: {:.1} ns/cell",
            cells,
            elapsed,
            elapsed.as_nanos() as f64 / cells as f64
        );
        let findings = scan.finish();
        println!("findings: {findings:?}");
    }
}
