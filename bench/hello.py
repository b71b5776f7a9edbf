"""The yardstick of `make bench`: a FastAPI hello-world served by the same `.venv`."""

from fastapi import FastAPI

app = FastAPI()


@app.get("/")
async def hello() -> dict[str, str]:
    return {"hello": "world"}
