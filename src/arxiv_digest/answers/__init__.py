"""What the model is asked and answers: tasks, prompts, the executor and its pacing, the
model client, the answer cache, the paper's text and links, and the enrich stage."""
