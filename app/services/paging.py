"""What every paged list shows about its pages ("Showing 51–100 of 230", Previous/Next)."""


class Paging:
    """Mixed into a page of results that has `total`, `number` (from 1) and `size`."""

    total: int
    number: int
    size: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.size))

    @property
    def first(self) -> int:
        return (self.number - 1) * self.size + 1 if self.total else 0

    @property
    def last(self) -> int:
        return min(self.number * self.size, self.total)
