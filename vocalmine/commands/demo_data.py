"""`vocalmine demo-data`: placeholder until the demo corpus lands."""

import click


@click.command("demo-data")
def demo_data() -> None:
    """Write the generated demo corpus."""
    raise click.ClickException("not implemented yet")
