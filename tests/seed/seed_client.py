import asyncio
import websockets
import json
import base64

async def test_streaming():
    uri = "ws://localhost:8000/ws/stream"
    
    async with websockets.connect(uri) as websocket:
        # Start session
        await websocket.send(json.dumps({
            "type": "start",
            "data": {"language": "en"}
        }))
        
        response = await websocket.recv()
        print(f"Session started: {response}")
        
        # Send text
        await websocket.send(json.dumps({
            "type": "text",
            "data": {"text": "What is 2+2?"}
        }))
        
        # Receive responses
        while True:
            response = await websocket.recv()
            data = json.loads(response)
            
            if data["type"] == "response_complete":
                print(f"Complete: {data}")
                break
            elif data["type"] == "response_text":
                print(f"Text: {data['data']['text']}")
            elif data["type"] == "response_audio":
                print(f"Audio chunk received: {len(data['data']['audio_data'])} bytes")
        
        # Stop session
        await websocket.send(json.dumps({"type": "stop"}))

asyncio.run(test_streaming())
