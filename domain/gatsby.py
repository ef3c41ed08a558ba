"""The eight Gatsby Benchmarks of good career guidance, by number: what each theme of the maturity model relates
to (`Theme.gatsby_benchmarks`), named as schools and colleges know them."""

from pydantic import BaseModel, ConfigDict

from domain.stages import ModelVariant

_SCHOOLS: dict[int, str] = {
    1: "A stable careers programme",
    2: "Learning from career and labour market information",
    3: "Addressing the needs of each pupil",
    4: "Linking curriculum learning to careers",
    5: "Encounters with employers and employees",
    6: "Experiences of workplaces",
    7: "Encounters with further and higher education",
    8: "Personal guidance",
}
# Colleges' own wording: students, not pupils.
_FE: dict[int, str] = _SCHOOLS | {3: "Addressing the needs of each student"}


class Benchmark(BaseModel):
    model_config = ConfigDict(frozen=True)

    number: int
    name: str

    @property
    def label(self) -> str:
        return f"Benchmark {self.number}: {self.name}"


def benchmarks(numbers: tuple[int, ...] | list[int], variant: ModelVariant = ModelVariant.SCHOOLS) -> list[Benchmark]:
    """The benchmarks a theme relates to, in number order; a number outside 1 to 8 has no name and is left out."""
    names = _FE if variant is ModelVariant.FE else _SCHOOLS
    return [Benchmark(number=n, name=names[n]) for n in sorted(set(numbers)) if n in names]
