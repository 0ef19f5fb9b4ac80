"""Dead letters: n8n executions that failed, recorded by the error workflow, listed and replayed by hand."""
