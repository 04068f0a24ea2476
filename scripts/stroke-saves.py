#!/usr/bin/env python3
"""Times saving strokes into one image of a running `scribseg serve` as it fills up.

Usage: scribseg serve --port 7993 --db /tmp/bench.db &  python3 scripts/stroke-saves.py 7993
Posts 5,100 strokes of 60 points to one 640x480 image, one new connection per request (as a
page's fetch may), and prints p50/p99 of the POST round trip per hundred strokes.
"""
import http.client, json, time, sys, statistics, struct, zlib
port=int(sys.argv[1])
def req(method, path, body=None, headers=None):
    c=http.client.HTTPConnection('127.0.0.1',port); h={'X-Scribseg':'1'}; h.update(headers or {})
    c.request(method,path,body=body,headers=h); r=c.getresponse(); d=r.read(); c.close(); return r.status,d
# a 640x480 PNG
def png(w,h):
    raw=b''.join(b'\x00'+bytes([v for x in range(w) for v in ((x*3)%256,(y*2)%256,90)]) for y in range(h))
    def chunk(t,d): return struct.pack('>I',len(d))+t+d+struct.pack('>I',zlib.crc32(t+d)&0xffffffff)
    return b'\x89PNG\r\n\x1a\n'+chunk(b'IHDR',struct.pack('>IIBBBBB',w,h,8,2,0,0,0))+chunk(b'IDAT',zlib.compress(raw))+chunk(b'IEND',b'')
s,d=req('POST','/api/projects',json.dumps({'name':'bench'}),{'Content-Type':'application/json'}); pid=json.loads(d)['id']
s,d=req('POST',f'/api/projects/{pid}/labels',json.dumps({'name':'a'}),{'Content-Type':'application/json'}); lid=json.loads(d)['id']
s,d=req('POST',f'/api/projects/{pid}/images?name=b.png',png(640,480)); iid=json.loads(d)['id']
times={}
pts=[[10+i*2.0, 20+i*1.5] for i in range(60)]
body=json.dumps({'label_id':lid,'kind':'positive','radius':3.0,'points':pts})
for n in range(5100):
    t=time.perf_counter(); s,_=req('POST',f'/api/images/{iid}/strokes',body,{'Content-Type':'application/json'}); dt=(time.perf_counter()-t)*1000
    assert s==200,s
    times.setdefault(n//100,[]).append(dt)
for k in (0,1,49,50):
    v=sorted(times[k]); print(f'strokes {k*100}-{k*100+99}: p50 {statistics.median(v):.2f} ms p99 {v[98]:.2f} ms')
