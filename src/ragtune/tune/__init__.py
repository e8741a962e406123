"""Fine-tuning: training data builders and LoRA training."""
