//! `scribseg model`: information about the network.

use std::fmt::Write as _;
use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use burn::module::Module;
use burn::tensor::Device;
use scribseg_model::lineage::Parent;
use scribseg_model::{BlockKind, Lineage, UNet, UNetConfig, LINEAGE_FILE};

/// Flags of `scribseg model`.
#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(subcommand)]
    command: ModelCommand,
}

#[derive(clap::Subcommand, Debug)]
enum ModelCommand {
    /// Print the stage table, the parameter count and, for a checkpoint, where it came from
    /// (its `train.json`).
    Info {
        /// A checkpoint directory (`config.json` + `model.bpk`, e.g. `weights/default`);
        /// without it, the default network with untrained weights.
        #[arg(value_name = "CHECKPOINT", conflicts_with = "weights")]
        checkpoint: Option<PathBuf>,
        /// The same as CHECKPOINT, as a flag.
        #[arg(long)]
        weights: Option<PathBuf>,
    },
    /// Copy a checkpoint with its weights in half precision (f16): half the file, loaded
    /// back as f32 (how the baselines' weights are committed).
    Half {
        /// The checkpoint directory to copy.
        #[arg(long)]
        weights: PathBuf,
        /// The new checkpoint directory.
        #[arg(long)]
        out: PathBuf,
    },
    /// Write a checkpoint whose weights are the element-wise mean of several checkpoints of
    /// the same network (checkpoint averaging, a "uniform soup").
    Average {
        /// A checkpoint directory to average; give it once per checkpoint, at least twice.
        #[arg(long, required = true, num_args = 1)]
        weights: Vec<PathBuf>,
        /// The new checkpoint directory.
        #[arg(long)]
        out: PathBuf,
    },
}

/// Runs `scribseg model`.
pub fn run(args: Args) -> Result<()> {
    match args.command {
        ModelCommand::Info {
            checkpoint,
            weights,
        } => {
            let device = Device::flex();
            let Some(dir) = checkpoint.or(weights) else {
                let model = UNetConfig::new().init(&device);
                print!(
                    "{}",
                    info(&model, "default configuration, untrained weights")
                );
                return Ok(());
            };
            let model = UNet::load(&dir, &device)
                .with_context(|| format!("loading the checkpoint {}", dir.display()))?;
            print!("{}", info(&model, &format!("checkpoint {}", dir.display())));
            println!();
            match Lineage::load(&dir)? {
                Some(lineage) => print!("lineage ({}):\n{}", LINEAGE_FILE, lineage.render()),
                None => println!(
                    "lineage: none recorded (no {LINEAGE_FILE} in {})",
                    dir.display()
                ),
            }
            Ok(())
        }
        ModelCommand::Half { weights, out } => {
            let model = UNet::load(&weights, &Device::flex())
                .with_context(|| format!("loading the checkpoint {}", weights.display()))?;
            let lineage = Lineage::half(Parent::of(&weights)?);
            model
                .save_half(&out)
                .with_context(|| format!("writing {}", out.display()))?;
            lineage.save(&out)?;
            eprintln!("wrote {} (f16 weights)", out.display());
            Ok(())
        }
        ModelCommand::Average { weights, out } => {
            if weights.len() < 2 {
                bail!("model average needs at least two --weights to average");
            }
            let device = Device::flex();
            let models = weights
                .iter()
                .map(|dir| {
                    UNet::load(dir, &device)
                        .with_context(|| format!("loading the checkpoint {}", dir.display()))
                })
                .collect::<Result<Vec<_>>>()?;
            let parents = weights
                .iter()
                .map(|dir| Parent::of(dir))
                .collect::<Result<Vec<_>, _>>()?;
            UNet::average(models)
                .context("averaging the checkpoints")?
                .save(&out)
                .with_context(|| format!("writing {}", out.display()))?;
            Lineage::average(parents).save(&out)?;
            eprintln!(
                "wrote {} (the mean of {} checkpoints)",
                out.display(),
                weights.len()
            );
            Ok(())
        }
    }
}

/// The text of `model info`: the stage table of the model's configuration, then its size.
fn info(model: &UNet, source: &str) -> String {
    let config = model.config();
    let size = 128;
    let mut out = format!(
        "Efficient-UNetV2 ({source})\ninput {} channels, output {} channel(s); \
         size a multiple of {}, trained at {size}x{size}\n\n",
        config.in_channels,
        config.out_channels,
        config.size_multiple()
    );
    out.push_str("stage  resolution  block         width  encoder  decoder  expansion  SE\n");
    for (i, stage) in config.stages.iter().enumerate() {
        let resolution = format!("{0}x{0}", size >> i);
        let block = match stage.kind {
            BlockKind::Fused => "Fused-MBConv",
            BlockKind::MbConv => "MBConv",
        };
        let se = if stage.squeeze_excite { "yes" } else { "no" };
        writeln!(
            out,
            "{i:<5}  {resolution:<10}  {block:<12}  {:>5}  {:>7}  {:>7}  {:>9}  {se}",
            stage.width, stage.repeats, stage.repeats, stage.expansion
        )
        .expect("writing to a String cannot fail");
    }
    writeln!(
        out,
        "\nparameters: {} trainable (+ {} batch-norm running statistics)",
        model.num_trainable_params(),
        model.num_params() - model.num_trainable_params()
    )
    .expect("writing to a String cannot fail");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn info_prints_the_stage_table_and_the_parameter_count() {
        let model = UNetConfig::new().init(&Device::flex());
        let text = info(&model, "test");
        assert!(
            text.contains("parameters: 1082772 trainable (+ 28112"),
            "{text}"
        );
        assert!(
            text.contains(
                "2      32x32       MBConv           32        2        2          4  yes"
            ),
            "{text}"
        );
        assert_eq!(
            text.lines().filter(|l| l.contains("Fused-MBConv")).count(),
            2
        );
    }
}
