from cloudoptima_mcp.gcp import main

if __name__ == "__main__":
    main()
