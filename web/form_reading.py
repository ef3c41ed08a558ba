"""Reading a posted form within limits: the body is bounded (web/body_limit.py), and so is the number of fields.

Starlette stops at 1,000 fields, far more than any of our forms sends, and says so as a 400; that is a form too
big, so it is answered like a body too big: 413.
"""

from fastapi import Request
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException

MAX_FIELDS = 1000


async def read_form(request: Request) -> FormData:
    try:
        return await request.form(max_fields=MAX_FIELDS)
    except HTTPException as error:
        if error.status_code == 400 and "Too many" in str(error.detail):
            raise HTTPException(
                status_code=413, detail=f"the form has more than {MAX_FIELDS} fields; nothing was read or recorded"
            ) from None
        raise
