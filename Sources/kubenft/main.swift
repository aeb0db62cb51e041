print("kubenft")
