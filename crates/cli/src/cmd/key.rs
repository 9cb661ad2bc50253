//! `datalab key`: the custodian's pseudonymization key, and sharing it with a partner custodian.
//!
//! Custodian side only: nothing here reads or writes a lab project.

use super::UsageError;
use pseudo::keys::{KeyRing, PartnerIdentity, PartnerPublicKey};
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: KeyCommand,
}

#[derive(clap::Subcommand)]
enum KeyCommand {
    /// Make a new 256-bit key, encrypted under a passphrase (argon2id, XChaCha20-Poly1305).
    New {
        /// The key file to write (refused if it exists).
        #[arg(long)]
        out: PathBuf,
        /// The lab the key pseudonymizes for: pseudonyms of two labs never join.
        #[arg(long)]
        lab: String,
        /// Who holds the key.
        #[arg(long, default_value = "city")]
        holder: String,
    },
    /// Add a new key version; new pseudonyms use it, old ones stay re-identifiable.
    Rotate {
        #[arg(long)]
        key: PathBuf,
    },
    /// Show a key's id, lab, holder and versions (never the secret).
    Info {
        #[arg(long)]
        key: PathBuf,
    },
    /// Partner side: make a key pair to receive a shared key (writes NAME.identity, encrypted,
    /// and NAME.pub, to send to the key holder).
    Keypair {
        /// Path prefix of the two files.
        #[arg(long)]
        out: PathBuf,
        /// The partner's name (e.g. the labour agency).
        #[arg(long)]
        name: String,
    },
    /// Seal the key to a partner's public key, so that the partner can make pseudonyms that
    /// link with the holder's (the lab never holds a key; the partner never gets the lookup).
    Share {
        #[arg(long)]
        key: PathBuf,
        /// The partner's public key file (NAME.pub).
        #[arg(long)]
        to: PathBuf,
        /// The sealed share to send to the partner.
        #[arg(long)]
        out: PathBuf,
    },
    /// Partner side: open a sealed share with the partner's identity and store the key under
    /// the partner's own passphrase.
    Accept {
        #[arg(long)]
        share: PathBuf,
        #[arg(long)]
        identity: PathBuf,
        /// The key file to write.
        #[arg(long)]
        out: PathBuf,
    },
}

fn refuse_existing(path: &std::path::Path) -> anyhow::Result<()> {
    if path.exists() {
        anyhow::bail!(UsageError(format!(
            "{} exists: refusing to overwrite a key (move it away first)",
            path.display()
        )));
    }
    Ok(())
}

/// Refuses a key, identity or lookup kept inside a lab project: keys and lookups live only at
/// the custodian, so no lab-side folder can re-identify anyone.
pub fn refuse_lab_side(path: &std::path::Path) -> anyhow::Result<()> {
    let abs = std::path::absolute(path)?;
    for dir in abs.ancestors().skip(1) {
        if dir.join(project::PROJECT_FILE).is_file() {
            anyhow::bail!(UsageError(format!(
                "{} is inside the lab project {}: keys and lookup tables must stay with the custodian, outside any lab folder",
                path.display(),
                dir.display()
            )));
        }
    }
    Ok(())
}

/// Opens a key file with the passphrase from the environment or the terminal.
pub fn open_key(path: &std::path::Path) -> anyhow::Result<KeyRing> {
    refuse_lab_side(path)?;
    let pass = crate::env::key_passphrase(&path.display().to_string())?;
    Ok(KeyRing::open(path, &pass)?)
}

pub fn run(args: Args, quiet: bool) -> anyhow::Result<()> {
    let say = |m: String| {
        if !quiet {
            eprintln!("{m}");
        }
    };
    match args.command {
        KeyCommand::New { out, lab, holder } => {
            refuse_existing(&out)?;
            refuse_lab_side(&out)?;
            let pass = crate::env::key_passphrase(&out.display().to_string())?;
            let key = KeyRing::generate(&lab, &holder)?;
            key.save(&out, &pass)?;
            say(format!(
                "key {} (version 1) for lab `{lab}` written to {}: keep it, and its passphrase, at the custodian only",
                key.key_id,
                out.display()
            ));
        }
        KeyCommand::Rotate { key } => {
            let pass = crate::env::key_passphrase(&key.display().to_string())?;
            let mut ring = KeyRing::open(&key, &pass)?;
            let v = ring.rotate()?;
            ring.save(&key, &pass)?;
            say(format!(
                "key {} now at version {v}: new pseudonyms carry `p{v}.`; re-pseudonymize every source with it, or records made with different versions will not link",
                ring.key_id
            ));
        }
        KeyCommand::Info { key } => {
            let ring = open_key(&key)?;
            let versions: Vec<String> = ring.versions().map(|v| v.to_string()).collect();
            println!("key_id   {}", ring.key_id);
            println!("lab      {}", ring.lab);
            println!("holder   {}", ring.holder);
            println!("created  {}", ring.created_at);
            println!(
                "versions {} (current {})",
                versions.join(", "),
                ring.current_version()
            );
        }
        KeyCommand::Keypair { out, name } => {
            let identity = out.with_extension("identity");
            let public = out.with_extension("pub");
            refuse_existing(&identity)?;
            refuse_lab_side(&identity)?;
            let pass = crate::env::key_passphrase(&identity.display().to_string())?;
            let id = PartnerIdentity::generate(&name)?;
            id.save(&identity, &pass)?;
            let pk = id.public();
            pk.save(&public)?;
            say(format!(
                "identity {} (keep it) and public key {} (send it to the key holder), fingerprint {}",
                identity.display(),
                public.display(),
                pk.fingerprint()
            ));
        }
        KeyCommand::Share { key, to, out } => {
            let ring = open_key(&key)?;
            let pk = PartnerPublicKey::load(&to)?;
            let body = ring.seal_for(&pk)?;
            std::fs::write(&out, body)?;
            say(format!(
                "key {} sealed to `{}` (fingerprint {}) in {}: only that partner can open it",
                ring.key_id,
                pk.name,
                pk.fingerprint(),
                out.display()
            ));
        }
        KeyCommand::Accept {
            share,
            identity,
            out,
        } => {
            refuse_existing(&out)?;
            refuse_lab_side(&out)?;
            let pass = crate::env::key_passphrase(&identity.display().to_string())?;
            let id = PartnerIdentity::open(&identity, &pass)?;
            let body = std::fs::read(&share)?;
            let ring = KeyRing::open_share(&body, &id)?;
            ring.save(&out, &pass)?;
            say(format!(
                "key {} for lab `{}` stored in {} for `{}`",
                ring.key_id,
                ring.lab,
                out.display(),
                ring.holder
            ));
        }
    }
    Ok(())
}
