//! `--stream FILE`: the samples the board's sample stream plays, read from a WAV file (16-bit
//! PCM, one channel, by the `hound` crate) or a raw file of signed 16-bit little-endian
//! samples.

use crate::cli::StreamArgs;
use anyhow::{Result, bail};
use mcusim_sim::devices::Samples;
use std::path::Path;
use std::sync::Arc;

/// A sample file as a run plays it, with what the stream summary needs.
#[derive(Debug, Clone)]
pub struct StreamInput {
    /// The file as given.
    pub file: String,
    pub samples: Arc<Samples>,
    pub battery_mah: Option<f64>,
    /// The options as the report records them.
    pub arguments: Vec<String>,
}

/// The stream `args` ask for, if any.
pub fn load(args: &StreamArgs) -> Result<Option<StreamInput>> {
    let Some(path) = &args.stream else {
        if args.stream_rate.is_some() || args.battery_mah.is_some() {
            bail!("--stream-rate and --battery-mah describe a --stream FILE: give one");
        }
        return Ok(None);
    };
    if let Some(c) = args.battery_mah
        && !(c.is_finite() && c > 0.0)
    {
        bail!("--battery-mah {c}: expected a positive capacity");
    }
    let samples = read(path, args.stream_rate)?;
    Ok(Some(StreamInput {
        file: path.display().to_string(),
        samples: Arc::new(samples),
        battery_mah: args.battery_mah,
        arguments: args.arguments(),
    }))
}

/// Reads `path`: a WAV file by its header, anything else as raw samples at `rate`.
fn read(path: &Path, rate: Option<u32>) -> Result<Samples> {
    let shown = path.display();
    let bytes = mcusim_traces::file::read_capped(path, mcusim_traces::file::MAX_INPUT_BYTES)
        .map_err(|e| anyhow::anyhow!("{shown}: {e}"))?;
    if let Some(0) = rate {
        bail!("{shown}: --stream-rate 0: expected samples per second above zero");
    }
    let samples = if bytes.starts_with(b"RIFF") {
        let reader = hound::WavReader::new(std::io::Cursor::new(&bytes))
            .map_err(|e| anyhow::anyhow!("{shown}: not a WAV file mcusim can read: {e}"))?;
        let spec = reader.spec();
        if spec.channels != 1
            || spec.bits_per_sample != 16
            || spec.sample_format != hound::SampleFormat::Int
        {
            bail!(
                "{shown}: {} channels of {}-bit {:?} samples: the stream plays one channel of 16-bit PCM",
                spec.channels,
                spec.bits_per_sample,
                spec.sample_format
            );
        }
        let data = reader
            .into_samples::<i16>()
            .collect::<Result<Vec<i16>, _>>()
            .map_err(|e| anyhow::anyhow!("{shown}: {e}"))?;
        Samples {
            data,
            rate_hz: rate.unwrap_or(spec.sample_rate),
        }
    } else {
        let Some(rate_hz) = rate else {
            bail!("{shown}: raw samples carry no rate: give --stream-rate HZ");
        };
        if bytes.len() % 2 != 0 {
            bail!(
                "{shown}: {} bytes is not a whole number of 16-bit samples",
                bytes.len()
            );
        }
        Samples {
            data: bytes
                .chunks_exact(2)
                .map(|b| i16::from_le_bytes([b[0], b[1]]))
                .collect(),
            rate_hz,
        }
    };
    if samples.rate_hz == 0 {
        bail!("{shown}: a sample rate of 0");
    }
    if samples.data.is_empty() {
        bail!("{shown}: no samples");
    }
    Ok(samples)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wav_and_raw_files_read_alike() {
        let dir = std::env::temp_dir().join(format!("mcusim-stream-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let wav = dir.join("a.wav");
        let spec = hound::WavSpec {
            channels: 1,
            sample_rate: 8_000,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let mut w = hound::WavWriter::create(&wav, spec).unwrap();
        for s in [1i16, -2, 300] {
            w.write_sample(s).unwrap();
        }
        w.finalize().unwrap();
        let raw = dir.join("a.raw");
        std::fs::write(&raw, [1u8, 0, 0xFE, 0xFF, 0x2C, 0x01]).unwrap();
        let a = read(&wav, None).unwrap();
        let b = read(&raw, Some(8_000)).unwrap();
        assert_eq!(a, b);
        assert_eq!(a.data, [1, -2, 300]);
        assert_eq!(read(&wav, Some(16_000)).unwrap().rate_hz, 16_000);
        let e = read(&raw, None).unwrap_err().to_string();
        assert!(e.contains("a.raw") && e.contains("--stream-rate"), "{e}");
        std::fs::write(&raw, [1u8, 0, 3]).unwrap();
        assert!(read(&raw, Some(8_000)).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
